import CZlib
import FileInput
import Foundation
import XCTest

/// Reading plain and gzip-compressed files through ``InputFile``.
final class InputFileTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("inputfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// Bytes that compress somewhat (text-like runs) but not trivially, larger than every buffer.
    private func sampleBytes(count: Int) -> Data {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes = [UInt8](repeating: 0, count: count)
        for i in bytes.indices {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            bytes[i] = UInt8(truncatingIfNeeded: (state >> 59) + 40)
        }
        return Data(bytes)
    }

    /// Writes `data` gzip-compressed with zlib's own writer.
    private func writeGzip(_ data: Data, to path: String) throws {
        let file = try XCTUnwrap(gzopen(path, "wb"))
        let written = data.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        XCTAssertEqual(Int(written), data.count)
        XCTAssertEqual(gzclose(file), Z_OK)
    }

    func testPlainAndCompressedFilesReadBackTheSameBytes() throws {
        let data = sampleBytes(count: 3_000_003)
        let plain = folder.appendingPathComponent("a.vnnlib").path
        let packed = folder.appendingPathComponent("b.vnnlib.gz").path
        try data.write(to: URL(fileURLWithPath: plain))
        try writeGzip(data, to: packed)
        XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: packed)[.size] as! Int, data.count)
        XCTAssertEqual(try InputFile.contents(of: plain), data)
        XCTAssertEqual(try InputFile.contents(of: packed), data)

        // Chunked reads of odd sizes see the same stream.
        let file = try InputFile(path: packed)
        var collected = Data()
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 4099, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let n = try file.read(into: buffer, capacity: 4099)
            if n == 0 { break }
            collected.append(buffer.assumingMemoryBound(to: UInt8.self), count: n)
        }
        XCTAssertEqual(collected, data)
        XCTAssertEqual(try file.read(into: buffer, capacity: 4099), 0, "reading past the end stays at the end")
    }

    func testAMissingPathIsReadFromItsGzipSibling() throws {
        let data = sampleBytes(count: 10_000)
        let path = folder.appendingPathComponent("net.onnx").path
        try writeGzip(data, to: path + ".gz")
        XCTAssertEqual(InputFile.resolve(path), path + ".gz")
        XCTAssertEqual(try InputFile.contents(of: path), data)
        // A plain file that exists wins over its sibling.
        try Data("plain".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(InputFile.resolve(path), path)
        XCTAssertEqual(try InputFile.contents(of: path), Data("plain".utf8))
    }

    func testTruncatedOrCorruptCompressedDataIsAnError() throws {
        let data = sampleBytes(count: 200_000)
        let whole = folder.appendingPathComponent("whole.gz").path
        try writeGzip(data, to: whole)
        let packed = try Data(contentsOf: URL(fileURLWithPath: whole))
        for cut in [20, packed.count / 3, packed.count - 5] {
            let path = folder.appendingPathComponent("cut\(cut).gz").path
            try packed.prefix(cut).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try InputFile.contents(of: path), "cut at \(cut) of \(packed.count)") { error in
                let reason = (error as? InputFileError)?.reason ?? ""
                XCTAssertTrue(reason.contains("gzip"), reason)
                XCTAssertFalse(reason.contains(path), "the caller names the file: \(reason)")
            }
        }
        var flipped = packed
        flipped[packed.count / 2] ^= 0xFF
        let path = folder.appendingPathComponent("flipped.gz").path
        try flipped.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try InputFile.contents(of: path))
    }

    func testAMissingFileIsAnErrorWithTheSystemsReason() {
        XCTAssertThrowsError(try InputFile.contents(of: folder.appendingPathComponent("none.vnnlib").path)) { error in
            XCTAssertEqual((error as? InputFileError)?.reason, "No such file or directory")
        }
    }
}
