import XCTest
@testable import VNNLib

final class VNNLibSmokeTests: XCTestCase {
    func testModuleLoads() throws {}
}
