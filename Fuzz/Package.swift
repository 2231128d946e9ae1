// swift-tools-version:6.2
// Coverage-guided fuzzers (libFuzzer) over Locus's wire decoders, decisions and encoders.
// Built and run by scripts/fuzz; see Fuzz/README.md.
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, so Locus's package is called whatever the
/// checkout's folder is called.
let locusPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()

let locus: [Target.Dependency] = ["JSON", "KubeClient", "Locality", "Mutators", "SchedulerExtender", "WebhookServer", "KubeTestServer"].map {
    .product(name: $0, package: locusPackage)
}

/// The same upcoming features as Locus's own targets (FuzzChecks compiles a file of its tests).
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "LocusFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "..")],
    targets: [
        // The checks, shared with Tests/FuzzTests/FuzzChecks.swift (a symlink to that
        // file: the regression tests replay saved inputs through exactly these checks).
        .target(name: "FuzzChecks", dependencies: locus, swiftSettings: strict + [.define("LOCUS_FUZZ")]),
        .executableTarget(name: "fuzz-admission", dependencies: ["FuzzChecks"], swiftSettings: strict),
        .executableTarget(name: "fuzz-extender", dependencies: ["FuzzChecks"], swiftSettings: strict),
        .executableTarget(name: "fuzz-json", dependencies: ["FuzzChecks"], swiftSettings: strict),
    ]
)
