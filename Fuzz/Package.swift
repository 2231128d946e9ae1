// swift-tools-version:6.2
// Coverage-guided fuzzers (libFuzzer) over Locus's wire decoders, decisions and encoders.
// Built and run by scripts/fuzz; see Fuzz/README.md.
import PackageDescription

let locus: [Target.Dependency] = [
    .product(name: "KubeClient", package: "main"),
    .product(name: "Locality", package: "main"),
    .product(name: "Mutators", package: "main"),
    .product(name: "SchedulerExtender", package: "main"),
    .product(name: "WebhookServer", package: "main"),
]

let package = Package(
    name: "LocusFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "..")],
    targets: [
        // The checks, shared with Tests/LocusTests/FuzzRegressionTests.swift (a symlink to that
        // file: the regression tests replay saved inputs through exactly these checks).
        .target(name: "FuzzChecks", dependencies: locus, swiftSettings: [.define("LOCUS_FUZZ")]),
        .executableTarget(name: "fuzz-admission", dependencies: ["FuzzChecks"]),
        .executableTarget(name: "fuzz-extender", dependencies: ["FuzzChecks"]),
        .executableTarget(name: "fuzz-json", dependencies: ["FuzzChecks"]),
    ]
)
