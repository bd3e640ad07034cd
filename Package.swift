// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
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

        // MARK: - Modules, in dependency order (an arrow in DESIGN.md means "may import").
        .target(
            name: "Reactor",
            dependencies: [
                // Not CURing: liburing.h defines _GNU_SOURCE, whose fd_set clashes with every other
                // module's in a clean build (see Sources/Reactor/System/URing.swift).
                "CLinux", "COpenSSL", "CZlib", "CSodium",
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
        .target(
            name: "Engines",
            dependencies: ["Persistence", "Reactor", .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcoming),
        .target(
            name: "API",
            dependencies: ["Engines", "Reactor", .product(name: "Logging", package: "swift-log")],
            swiftSettings: upcoming),
        .executableTarget(
            name: "openwa",
            dependencies: [
                "API", "Engines", "Persistence", "Reactor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming),

        // MARK: - Benchmarks (perf/db-bench.sh); a plain executable, never run by the tests.
        .executableTarget(
            name: "db-bench",
            dependencies: ["Persistence", "Reactor", .product(name: "Logging", package: "swift-log")],
            path: "perf/DBBench", swiftSettings: upcoming),

        // MARK: - Tests
        .target(
            name: "TestSupport", dependencies: [.product(name: "Logging", package: "swift-log")], path: "Tests/TestSupport",
            swiftSettings: upcoming),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "TestSupport"], swiftSettings: upcoming),
        .testTarget(
            name: "PersistenceTests", dependencies: ["Persistence", "Reactor", "TestSupport"], swiftSettings: upcoming),
        .testTarget(
            name: "APITests",
            dependencies: [
                "API", "Engines", "Persistence", "Reactor", "TestSupport", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: upcoming),
        .testTarget(name: "GatewayTests", dependencies: ["openwa", "TestSupport"], swiftSettings: upcoming),
    ],
    swiftLanguageModes: [.v6]
)
