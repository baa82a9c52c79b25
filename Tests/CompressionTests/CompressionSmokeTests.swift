import XCTest
@testable import Compression

final class CompressionSmokeTests: XCTestCase {
    func testModuleLoads() throws {}
}
