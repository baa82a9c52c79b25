import XCTest
@testable import Verifier

final class VerifierSmokeTests: XCTestCase {
    func testModuleLoads() throws {}
}
