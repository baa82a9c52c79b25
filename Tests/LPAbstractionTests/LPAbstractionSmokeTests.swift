import XCTest
@testable import LPAbstraction

final class LPAbstractionSmokeTests: XCTestCase {
    func testModuleLoads() throws {}
}
