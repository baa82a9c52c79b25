import FileInput

/// Hands out a VNNLIB text in chunks.
///
/// Properties with hundreds of thousands of inputs run to 100 MB of text; reading them in fixed
/// chunks keeps the parser's memory proportional to the parsed result rather than to the file
/// (an mmap would show up in the resident set as the file is touched).
final class ByteReader {
    /// Bytes per `read` call for files.
    static let chunkSize = 1 << 20

    private let path: String
    /// The file; nil for in-memory text and once the file is read.
    private var file: InputFile?
    /// The current chunk; for in-memory text, the whole text.
    private(set) var buffer: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    /// Bytes of `buffer` that are valid.
    private(set) var count: Int
    /// Whether the source has been read completely.
    private(set) var isExhausted: Bool

    /// Opens a file (gzip-compressed or not, see ``InputFile``) for chunked reading; tests pass
    /// tiny chunk sizes to put tokens across chunks.
    init(path: String, chunkSize: Int = ByteReader.chunkSize) throws(VNNLibError) {
        self.path = path
        do {
            file = try InputFile(path: path)
        } catch {
            throw VNNLibError(kind: .io, path: path, location: nil, message: "cannot open file: \(error.reason)")
        }
        capacity = Swift.max(chunkSize, 1)
        buffer = .allocate(capacity: capacity)
        count = 0
        isExhausted = false
    }

    /// Wraps bytes already in memory; the reader owns a copy.
    init(bytes: some Collection<UInt8>, path: String) {
        self.path = path
        file = nil
        capacity = Swift.max(bytes.count, 1)
        buffer = .allocate(capacity: capacity)
        let initialized = UnsafeMutableBufferPointer(start: buffer, count: capacity).initialize(fromContentsOf: bytes)
        count = initialized
        isExhausted = false
    }

    deinit {
        buffer.deallocate()
    }

    /// Replaces the buffer's contents with the next chunk; afterwards `count == 0` means the end.
    func refill() throws(VNNLibError) {
        guard let file, !isExhausted else {
            count = 0
            isExhausted = true
            return
        }
        do {
            count = try file.read(into: buffer, capacity: capacity)
        } catch {
            throw VNNLibError(kind: .io, path: path, location: nil, message: "cannot read file: \(error.reason)")
        }
        if count == 0 {
            isExhausted = true
            self.file = nil
        }
    }
}
