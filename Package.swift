// swift-tools-version:6.2
import PackageDescription

/// Every target: `any` spelled out for existentials, imports internal unless declared `public`,
/// and members visible only through modules a file imports itself.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// What every test target depends on: every module (a test target tests one, and reads others to
/// set up its cases), the test support and the libraries the tests talk through.
let testDependencies: [Target.Dependency] = [
    "JSON", "KubeClient", "Locality", "Mutators", "SchedulerExtender", "Controllers", "WebhookServer", "KubeTestServer", "TestSupport",
    .product(name: "AsyncHTTPClient", package: "async-http-client"),
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOEmbedded", package: "swift-nio"),
    .product(name: "HTTPTypes", package: "swift-http-types"),
    .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
    .product(name: "NIOSSL", package: "swift-nio-ssl"),
    .product(name: "Logging", package: "swift-log"),
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    .product(name: "ArgumentParser", package: "swift-argument-parser"),
]

let package = Package(
    name: "Locus",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "locus", targets: ["locus"]),
        .library(name: "JSON", targets: ["JSON"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "Locality", targets: ["Locality"]),
        .library(name: "Mutators", targets: ["Mutators"]),
        .library(name: "SchedulerExtender", targets: ["SchedulerExtender"]),
        .library(name: "WebhookServer", targets: ["WebhookServer"]),
        .library(name: "Controllers", targets: ["Controllers"]),
        .library(name: "KubeTestServer", targets: ["KubeTestServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        .target(name: "JSON", swiftSettings: strict),
        .target(
            name: "KubeClient",
            dependencies: [
                "JSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ], swiftSettings: strict),
        .target(
            name: "Locality",
            dependencies: [
                "JSON", "KubeClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
            ], swiftSettings: strict),
        .target(name: "Mutators", dependencies: ["JSON", "KubeClient", "Locality"], swiftSettings: strict),
        .target(name: "SchedulerExtender", dependencies: ["JSON", "KubeClient", "Locality"], swiftSettings: strict),
        .target(
            name: "Controllers",
            dependencies: [
                "JSON", "KubeClient", "Locality", "SchedulerExtender",
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: strict),
        .target(
            name: "WebhookServer",
            dependencies: [
                "JSON", "KubeClient", "Locality", "Mutators", "SchedulerExtender", "Controllers",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),
        .executableTarget(name: "locus", dependencies: ["WebhookServer"], swiftSettings: strict),
        // An in-process API server speaking list/watch as kube-apiserver does: the tests' cluster,
        // and the production-shaped cluster of locus-bench api-server (scripts/bench-production).
        .target(
            name: "KubeTestServer",
            dependencies: [
                "JSON", "KubeClient", "WebhookServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ], swiftSettings: strict),
        // Load generator and fixture maker for the benchmarks (scripts/bench-webhook).
        .executableTarget(
            name: "locus-bench",
            dependencies: [
                "WebhookServer", "JSON", "KubeClient", "Mutators", "SchedulerExtender", "Locality", "KubeTestServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ], swiftSettings: strict),
        // What the tests share: the pod runner, real engines (JuiceFS, vineyardd, etcd) and their
        // processes, a running Locus, the warm-up harness, fixtures' paths. Not a test target, so
        // its declarations are public; built only with the tests.
        .target(
            name: "TestSupport",
            dependencies: [
                "JSON", "KubeClient", "Locality", "Mutators", "SchedulerExtender", "Controllers", "WebhookServer", "KubeTestServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ], path: "Tests/TestSupport", swiftSettings: [.enableUpcomingFeature("ExistentialAny")]),
    ]
        // One test target per module; the fuzzers' checks (Fuzz/ links FuzzChecks.swift) and the
        // saved inputs replayed through them; real processes, pods (podman), engines and the image.
        + [
            "JSONTests", "KubeClientTests", "LocalityTests", "MutatorsTests", "SchedulerExtenderTests", "ControllersTests",
            "WebhookServerTests", "FuzzTests", "SystemTests",
        ].map { .testTarget(name: $0, dependencies: testDependencies, swiftSettings: strict) }
)
