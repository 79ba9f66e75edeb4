// swift-tools-version: 6.2

import PackageDescription

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    // Our targets only; dependencies keep their own settings.
    .unsafeFlags(["-warnings-as-errors"]),
]

let package = Package(
    name: "flotilla",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "flotilla", targets: ["flotilla"])
    ],
    dependencies: [
        // CLI parsing, help and completion.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The SQLite ledger (7.10.0 is the version verified to link on Linux).
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        // Process groups, sessions and teardown sequences for every child process.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        // File descriptors and errnos off Apple's platforms, as swift-subprocess names them there.
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        // Structured logging in libraries; bootstrapped once by the executable.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The daemon's HTTP API, Server-Sent Events and webhook (brings SwiftNIO).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Named by the daemon's code (header names, byte buffers); already built as Hummingbird's dependencies.
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        // The daemon's services and graceful shutdown on SIGTERM/SIGINT.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The HTTP client of the planner, the critic and the daemon's client (no libcurl at start-up).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // The MCP server (`flotilla mcp` over stdio, `/mcp` on the daemon): the official Swift SDK.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        // HMAC-SHA256 of signed notifications (already built for AsyncHTTPClient's TLS).
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .target(
            name: "FlotillaCore",
            swiftSettings: strictSettings
        ),
        .target(name: "CFlotillaSystem"),
        .target(
            name: "FlotillaSystem",
            dependencies: [
                "FlotillaCore",
                "CFlotillaSystem",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(
                    name: "SystemPackage",
                    package: "swift-system",
                    condition: .when(platforms: [.linux, .windows, .android, .wasi, .openbsd])
                ),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FlotillaGit",
            dependencies: ["FlotillaCore"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FlotillaStore",
            dependencies: [
                "FlotillaCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FlotillaAgents",
            dependencies: ["FlotillaCore"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FlotillaEngine",
            dependencies: ["FlotillaCore"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FlotillaLLM",
            dependencies: [
                "FlotillaCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FlotillaAPI",
            dependencies: [
                "FlotillaCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FlotillaMCP",
            dependencies: ["FlotillaCore", "FlotillaAPI", .product(name: "MCP", package: "swift-sdk")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FlotillaServer",
            dependencies: [
                "FlotillaCore", "FlotillaAPI", "FlotillaMCP",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // The page's modules are ES modules to Node too (its tests import them).
            exclude: ["Dashboard/Assets/package.json"],
            // The dashboard's files, compiled into the binary: one file to install, and it works offline.
            resources: [
                .embedInCode("Dashboard/Assets/index.html"), .embedInCode("Dashboard/Assets/dashboard.css"),
                .embedInCode("Dashboard/Assets/main.js"), .embedInCode("Dashboard/Assets/api.js"),
                .embedInCode("Dashboard/Assets/dom.js"), .embedInCode("Dashboard/Assets/format.js"),
                .embedInCode("Dashboard/Assets/layout.js"), .embedInCode("Dashboard/Assets/sse.js"),
                .embedInCode("Dashboard/Assets/live.js"), .embedInCode("Dashboard/Assets/missions-view.js"),
                .embedInCode("Dashboard/Assets/mission-view.js"), .embedInCode("Dashboard/Assets/header-view.js"),
                .embedInCode("Dashboard/Assets/dag-view.js"), .embedInCode("Dashboard/Assets/charts-view.js"),
                .embedInCode("Dashboard/Assets/attempt-view.js"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FlotillaBenchmarks",
            dependencies: [
                "FlotillaAPI", "FlotillaCore", "FlotillaSystem", "FlotillaGit", "FlotillaStore", "FlotillaAgents",
                "FlotillaEngine",
            ],
            swiftSettings: strictSettings
        ),
        // The mission application layer: create, run, stop, approve, resume, liveness and supervision, over the
        // ledgers and processes (the daemon's client offers the same protocol from FlotillaAPI).
        .target(
            name: "FlotillaService",
            dependencies: [
                "FlotillaAPI", "FlotillaLLM", "FlotillaCore", "FlotillaSystem", "FlotillaGit", "FlotillaStore",
                "FlotillaAgents", "FlotillaEngine",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "FlotillaCLI",
            dependencies: [
                "FlotillaService",
                "FlotillaAPI",
                "FlotillaMCP",
                "FlotillaLLM",
                "FlotillaBenchmarks",
                "FlotillaServer",
                "FlotillaCore",
                "FlotillaSystem",
                "FlotillaAgents",
                "FlotillaEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MCP", package: "swift-sdk"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "flotilla",
            dependencies: ["FlotillaCLI"],
            swiftSettings: strictSettings
        ),
        // Stand-ins for the agent CLIs, faithful to their headless output (tests only).
        .executableTarget(
            name: "flotilla-fake-agent",
            path: "Tests/Fakes/AgentCLIs",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .target(
            name: "FlotillaTestSupport",
            dependencies: [
                "FlotillaAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                "FlotillaCore",
                "FlotillaSystem",
                "FlotillaStore",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlotillaSystemTests",
            dependencies: ["FlotillaCore", "FlotillaSystem", "FlotillaTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlotillaGitTests",
            dependencies: ["FlotillaCore", "FlotillaGit", "FlotillaSystem", "FlotillaTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlotillaStoreTests",
            dependencies: [
                "FlotillaCore", "FlotillaStore", "FlotillaTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlotillaEndToEndTests",
            dependencies: [
                "flotilla", "FlotillaAPI", "FlotillaCore", "FlotillaEngine", "FlotillaStore", "FlotillaSystem",
                "FlotillaTestSupport",
                // To check notification signatures independently of Flotilla's own code.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlotillaEngineTests",
            dependencies: [
                "FlotillaCore", "FlotillaEngine", "FlotillaGit", "FlotillaStore", "FlotillaSystem", "FlotillaAgents",
                "FlotillaTestSupport",
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlotillaAgentsTests",
            dependencies: ["FlotillaAgents", "FlotillaCore", "FlotillaSystem", "FlotillaTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlotillaBenchmarksTests",
            dependencies: ["FlotillaBenchmarks", "FlotillaCore", "FlotillaSystem", "FlotillaTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlotillaServerTests",
            dependencies: ["FlotillaServer", "FlotillaAPI", "FlotillaCore", "FlotillaSystem", "FlotillaTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlotillaServiceTests",
            dependencies: ["FlotillaService", "FlotillaCore", "FlotillaSystem", "FlotillaTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FlotillaCoreTests",
            dependencies: ["FlotillaCore", "FlotillaTestSupport"],
            // Golden files the tests read by their path.
            exclude: ["Fixtures"],
            swiftSettings: strictSettings
        ),
    ]
)
