#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Hands out a VNNLIB text in chunks.
///
/// Properties with hundreds of thousands of inputs run to 100 MB of text; reading them in fixed
/// chunks keeps the parser's memory proportional to the parsed result rather than to the file
/// (an mmap would show up in the resident set as the file is touched).
final class ByteReader {
    /// Bytes per `read` call for files.
    static let chunkSize = 1 << 20

    private let path: String
    private var descriptor: Int32
    /// The current chunk; for in-memory text, the whole text.
    private(set) var buffer: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    /// Bytes of `buffer` that are valid.
    private(set) var count: Int
    /// Whether the source has been read completely.
    private(set) var isExhausted: Bool

    /// Opens a file for chunked reading; tests pass tiny chunk sizes to put tokens across chunks.
    init(path: String, chunkSize: Int = ByteReader.chunkSize) throws(VNNLibError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw VNNLibError(kind: .io, path: path, location: nil,
                              message: "cannot open file: \(Self.lastErrorText())")
        }
        descriptor = fd
        capacity = Swift.max(chunkSize, 1)
        buffer = .allocate(capacity: capacity)
        count = 0
        isExhausted = false
    }

    /// Wraps bytes already in memory; the reader owns a copy.
    init(bytes: some Collection<UInt8>, path: String) {
        self.path = path
        descriptor = -1
        capacity = Swift.max(bytes.count, 1)
        buffer = .allocate(capacity: capacity)
        let initialized = UnsafeMutableBufferPointer(start: buffer, count: capacity).initialize(fromContentsOf: bytes)
        count = initialized
        isExhausted = false
    }

    deinit {
        buffer.deallocate()
        if descriptor >= 0 { close(descriptor) }
    }

    /// Replaces the buffer's contents with the next chunk; afterwards `count == 0` means the end.
    func refill() throws(VNNLibError) {
        guard descriptor >= 0, !isExhausted else {
            count = 0
            isExhausted = true
            return
        }
        while true {
            let n = read(descriptor, buffer, capacity)
            if n > 0 {
                count = n
                return
            }
            if n == 0 {
                count = 0
                isExhausted = true
                close(descriptor)
                descriptor = -1
                return
            }
            if errno == EINTR { continue }
            throw VNNLibError(kind: .io, path: path, location: nil,
                              message: "cannot read file: \(Self.lastErrorText())")
        }
    }

    private static func lastErrorText() -> String {
        guard let text = strerror(errno) else { return "error \(errno)" }
        return String(cString: text)
    }
}
