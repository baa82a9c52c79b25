/// A position in a VNNLIB text: 1-based line and 1-based column.
///
/// Columns count characters (UTF-8 continuation bytes are skipped), so a column matches what an
/// editor shows even after non-ASCII text in a comment; a tab counts as one column.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    /// 1-based column number.
    public var column: Int

    /// Creates a location.
    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// Why a VNNLIB file was rejected.
///
/// Every failure of ``VNNLibParser`` is reported as this one type so that a caller can print it
/// as it stands: ``description`` reads `path:line:column: message`, the shape compilers use and
/// editors can jump to.
public struct VNNLibError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Coarse classification, for callers that react differently to different failures.
    public enum Kind: Sendable, Hashable {
        /// The file could not be opened or read.
        case io
        /// The text is not well-formed: bad token, unbalanced parentheses, wrong arity.
        case syntax
        /// Well-formed SMT-LIB that VNNLIB 1.0 (or this parser) does not support.
        case unsupported
        /// A variable is undeclared, declared twice, or declarations leave a gap.
        case declaration
        /// The property is well-formed but cannot be turned into input boxes, e.g. an input
        /// without a lower or upper bound.
        case semantic
        /// A configured size limit was exceeded (nesting depth, variables, DNF size).
        case limit
    }

    /// The classification of the failure.
    public var kind: Kind
    /// The file path as given to the parser (`<string>` for in-memory text by default).
    public var path: String
    /// Where the problem was found; `nil` for problems of the file as a whole.
    public var location: SourceLocation?
    /// What went wrong, including what was expected where that helps.
    public var message: String

    /// Creates an error.
    public init(kind: Kind, path: String, location: SourceLocation?, message: String) {
        self.kind = kind
        self.path = path
        self.location = location
        self.message = message
    }

    /// `path:line:column: message`, or `path: message` without a location.
    public var description: String {
        if let location { return "\(path):\(location.line):\(location.column): \(message)" }
        return "\(path): \(message)"
    }
}
