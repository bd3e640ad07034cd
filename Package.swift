// swift-tools-version: 6.1
import PackageDescription

/// Every Swift target imports C headers with `_GNU_SOURCE` defined, the same way the shims and
/// liburing define it: glibc's `fd_set` differs with and without it, and Clang refuses a module
/// graph (Glibc, Dispatch, the shims) that has both variants.
let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .unsafeFlags(["-Xcc", "-D_GNU_SOURCE"]),
]

let package = Package(
    name: "openwa",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "openwa", targets: ["openwa"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // MARK: - C shims: one system library each, imported only by Reactor/System or Persistence/Drivers.
        .systemLibrary(name: "CLinux", path: "Sources/CShims/CLinux"),
        .systemLibrary(
            name: "CURing", path: "Sources/CShims/CURing", pkgConfig: "liburing",
            providers: [.apt(["liburing-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "Sources/CShims/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CShims/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CSodium", path: "Sources/CShims/CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(
            name: "CSQLite3", path: "Sources/CShims/CSQLite3", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CShims/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CHiredis", path: "Sources/CShims/CHiredis", pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CTurboJPEG", path: "Sources/CShims/CTurboJPEG", pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]),

        // MARK: - Modules, in dependency order (an arrow in DESIGN.md means "may import").
        .target(
            name: "Reactor",
            dependencies: [
                "CLinux", "CURing", "COpenSSL", "CZlib", "CSodium", "CTurboJPEG",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming),
        .target(
            name: "Persistence",
            dependencies: [
                "Reactor", "CSQLite3", "CLibPQ", "CHiredis",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming),
        // The .proto sources sit beside their generated Swift (scripts/generate-protos.sh) and are
        // not compiled.
        .target(
            name: "WAProtocol",
            dependencies: ["Reactor", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Sources/Engines/WAProtocol",
            exclude: ["Proto/signal_local.proto", "Proto/signal_wire.proto", "Proto/wa_adv.proto", "Proto/wa_client_payload.proto", "Proto/wa_common.proto", "Proto/wa_companion_reg.proto", "Proto/wa_e2e.proto", "Proto/wa_handshake.proto", "Proto/wa_history_sync.proto", "Proto/wa_server_sync.proto", "Proto/wa_sync_action.proto"],
            swiftSettings: upcoming),
        .target(
            name: "Engines",
            dependencies: [
                "WAProtocol", "Persistence", "Reactor", .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["WAProtocol", "Simulator"],
            swiftSettings: upcoming),
        // The WhatsApp server simulator (`openwa sim`, tests, perf): plays WhatsApp's side of the protocol.
        .target(
            name: "Simulator",
            dependencies: [
                "WAProtocol", "Reactor", .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Sources/Engines/Simulator",
            swiftSettings: upcoming),
        .target(
            name: "API",
            dependencies: ["Engines", "Reactor", .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcoming),
        .executableTarget(
            name: "openwa",
            dependencies: [
                "API", "Engines", "Persistence", "Reactor", "Simulator", "WAProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming),

        // MARK: - Benchmarks (perf/db-bench.sh); a plain executable, never run by the tests.
        .executableTarget(
            name: "db-bench",
            dependencies: ["Persistence", "Reactor", .product(name: "Logging", package: "swift-log")],
            path: "perf/DBBench", swiftSettings: upcoming),
        .executableTarget(
            name: "media-bench",
            dependencies: ["Persistence", "Reactor", .product(name: "Logging", package: "swift-log")],
            path: "perf/MediaBench", swiftSettings: upcoming),
        .executableTarget(
            name: "webhook-bench",
            dependencies: ["Engines", "Persistence", "Reactor", .product(name: "Logging", package: "swift-log")],
            path: "perf/WebhookBench", swiftSettings: upcoming),
        .executableTarget(
            name: "browser-bench",
            dependencies: ["Engines", "Reactor", .product(name: "Logging", package: "swift-log")],
            path: "perf/BrowserBench", swiftSettings: upcoming),
        .executableTarget(
            name: "protocol-bench", dependencies: ["WAProtocol", "Reactor"], path: "perf/ProtocolBench",
            swiftSettings: upcoming),

        // MARK: - Tests
        .target(
            name: "TestSupport", dependencies: ["Reactor", .product(name: "Logging", package: "swift-log")], path: "Tests/TestSupport",
            swiftSettings: upcoming),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "TestSupport"], swiftSettings: upcoming),
        .testTarget(
            name: "WAProtocolTests",
            dependencies: ["WAProtocol", "Reactor", "TestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["Fixtures"], swiftSettings: upcoming),
        .testTarget(
            name: "SimulatorTests",
            dependencies: [
                "Simulator", "WAProtocol", "Reactor", "TestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming),
        .testTarget(
            name: "EnginesTests",
            dependencies: [
                "Engines", "Simulator", "WAProtocol", "Persistence", "Reactor", "TestSupport",
                .product(name: "Logging", package: "swift-log"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Fixtures"], swiftSettings: upcoming),
        .testTarget(
            name: "PersistenceTests", dependencies: ["Persistence", "Reactor", "TestSupport"], swiftSettings: upcoming),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Engines", "Persistence", "Reactor", "Simulator", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Fixtures"], swiftSettings: upcoming),
        .testTarget(name: "GatewayTests", dependencies: ["openwa", "TestSupport", "Simulator", "Reactor"], swiftSettings: upcoming),
    ],
    swiftLanguageModes: [.v6]
)
