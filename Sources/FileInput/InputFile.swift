import CZlib
import Foundation

/// A network or property file opened for sequential reading, gzip-compressed or not.
///
/// VNN-COMP benchmark repositories ship their networks and properties gzip-compressed
/// (`net.onnx.gz`, `prop.vnnlib.gz`), and their instance lists may name either form; tools are
/// expected to read them as they are. zlib's reader passes plain files through unchanged, so every
/// file goes through it.
public final class InputFile {
    /// The path actually opened (see ``resolve(_:)``).
    public let path: String
    private var handle: gzFile?

    /// Opens `path`, or `path.gz` when only that exists.
    /// - Throws: ``InputFileError`` with the reason (the caller names the file in its own error).
    public init(path: String) throws(InputFileError) {
        self.path = Self.resolve(path)
        errno = 0
        guard let handle = gzopen(self.path, "rb") else {
            throw InputFileError(reason: errno != 0 ? Self.systemErrorText() : "cannot open file")
        }
        self.handle = handle
        // Fewer, larger reads: a property can be 100 MB of text.
        gzbuffer(handle, 1 << 17)
    }

    deinit {
        if let handle { gzclose(handle) }
    }

    /// Reads up to `capacity` bytes (decompressed) into `buffer`; 0 means the end of the file.
    /// - Throws: ``InputFileError`` on a read error or corrupt compressed data.
    public func read(into buffer: UnsafeMutableRawPointer, capacity: Int) throws(InputFileError) -> Int {
        guard let handle else { return 0 }
        let n = gzread(handle, buffer, UInt32(clamping: min(capacity, Int(Int32.max))))
        if n < 0 {
            var code: Int32 = 0
            let message = errorMessage(handle, &code)
            throw InputFileError(reason: code == Z_ERRNO ? Self.systemErrorText() : "corrupt or truncated gzip data (\(message))")
        }
        if n == 0 {
            // A gzip stream cut short ends the data early without a failed read: ask.
            var code: Int32 = 0
            let message = errorMessage(handle, &code)
            if code != Z_OK { throw InputFileError(reason: "corrupt or truncated gzip data (\(message))") }
            gzclose(handle)
            self.handle = nil
        }
        return Int(n)
    }

    /// zlib's message for the last error, without the path it puts in front.
    private func errorMessage(_ handle: gzFile, _ code: inout Int32) -> String {
        let message = gzerror(handle, &code).map { String(cString: $0) } ?? "read error"
        return message.hasPrefix(path + ": ") ? String(message.dropFirst(path.count + 2)) : message
    }

    /// The whole (decompressed) contents of `path` (or `path.gz`).
    public static func contents(of path: String) throws(InputFileError) -> Data {
        let file = try InputFile(path: path)
        var data = Data()
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let n = try file.read(into: buffer, capacity: chunk)
            if n == 0 { return data }
            data.append(buffer.assumingMemoryBound(to: UInt8.self), count: n)
        }
    }

    /// `path` itself when it exists, else `path.gz` when that exists (an instance list naming the
    /// decompressed file beside the shipped `.gz`), else `path` (for the error message).
    public static func resolve(_ path: String) -> String {
        let files = FileManager.default
        if !files.fileExists(atPath: path), files.fileExists(atPath: path + ".gz") { return path + ".gz" }
        return path
    }

    private static func systemErrorText() -> String {
        guard let text = strerror(errno) else { return "error \(errno)" }
        return String(cString: text)
    }
}

/// Why an ``InputFile`` could not be opened or read.
public struct InputFileError: Error, Sendable {
    /// What went wrong, without the path.
    public var reason: String
}
