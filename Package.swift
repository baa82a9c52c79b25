// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "NNVerify",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "nnverify", targets: ["nnverify"]),
        .library(name: "Network", targets: ["Network"]),
        .library(name: "VNNLib", targets: ["VNNLib"]),
        .library(name: "LPAbstraction", targets: ["LPAbstraction"]),
        .library(name: "Verifier", targets: ["Verifier"]),
        .library(name: "Compression", targets: ["Compression"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CGLPK",
            pkgConfig: nil,
            providers: [.apt(["libglpk-dev"])]
        ),
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: nil,
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: nil,
            providers: [.apt(["zlib1g-dev"])]
        ),
        // GLPK calls with an error hook, so that an internal check GLPK fails comes back as an
        // error code instead of ending the process (see include/glpk_guard.h).
        .target(name: "CGLPKGuard", dependencies: ["CGLPK"], linkerSettings: [.linkedLibrary("glpk")]),
        // mallopt, which Swift's Glibc module lacks (see Sources/nnverify/Allocator.swift).
        .target(name: "CAllocator"),
        .target(name: "FileInput", dependencies: ["CZlib"]),
        .target(
            name: "Network",
            dependencies: ["FileInput", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .target(name: "VNNLib", dependencies: ["FileInput"]),
        .target(name: "LPAbstraction", dependencies: ["CGLPK", "CGLPKGuard", "CBLAS", "Network"]),
        .target(name: "Verifier", dependencies: ["Network", "VNNLib", "LPAbstraction", "Compression"]),
        .target(name: "Compression", dependencies: ["Network", "LPAbstraction"]),
        .executableTarget(
            name: "nnverify",
            dependencies: [
                "Network", "VNNLib", "LPAbstraction", "Verifier", "Compression", "CAllocator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "FileInputTests", dependencies: ["FileInput", "CZlib"]),
        .testTarget(name: "NetworkTests", dependencies: ["Network"]),
        .testTarget(name: "VNNLibTests", dependencies: ["VNNLib"]),
        .testTarget(name: "LPAbstractionTests", dependencies: ["LPAbstraction", "Network", "VNNLib"]),
        .testTarget(name: "VerifierTests", dependencies: ["Verifier", "Network", "VNNLib", "LPAbstraction"]),
        .testTarget(name: "CompressionTests", dependencies: ["Compression", "Network", "LPAbstraction"]),
        // Runs the built `nnverify` as a user would; depends on it so `swift test` builds it first.
        .testTarget(name: "CLITests", dependencies: ["nnverify"]),
    ]
)
