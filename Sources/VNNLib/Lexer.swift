#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The reserved words and operators a VNNLIB file may contain.
enum Keyword: Sendable, Equatable {
    case declareConst, declareFun, assert, real
    case and, or
    case lessEqual, greaterEqual, less, greater, equal
    case plus, minus, times
    case checkSat, getModel, exit, setLogic, setInfo, setOption

    /// The spelling in the file, for messages.
    var text: String {
        switch self {
        case .declareConst: "declare-const"
        case .declareFun: "declare-fun"
        case .assert: "assert"
        case .real: "Real"
        case .and: "and"
        case .or: "or"
        case .lessEqual: "<="
        case .greaterEqual: ">="
        case .less: "<"
        case .greater: ">"
        case .equal: "="
        case .plus: "+"
        case .minus: "-"
        case .times: "*"
        case .checkSat: "check-sat"
        case .getModel: "get-model"
        case .exit: "exit"
        case .setLogic: "set-logic"
        case .setInfo: "set-info"
        case .setOption: "set-option"
        }
    }
}

/// What a token is; numbers and variable names are decoded by the lexer so the parser never
/// needs a `String` per token.
enum TokenKind: Equatable {
    case open
    case close
    case number(Double)
    case variable(Variable)
    case keyword(Keyword)
    /// Any other symbol (including quoted `|…|` symbols that are not variable names).
    case symbol(String)
    /// A `"…"` string literal; only meaningful inside ignored commands such as `set-info`.
    case string
    case endOfFile
}

/// One token and where it starts.
struct Token {
    var kind: TokenKind
    var location: SourceLocation
}

/// The lexer's fixed buffers; a class only so that they are freed exactly once.
private final class LexerStorage {
    /// The current symbol or number token, NUL-terminated for `strtod`.
    let scratch: UnsafeMutablePointer<UInt8>
    /// Character class of every byte value.
    let classes: UnsafeMutablePointer<UInt8>

    init(scratchCapacity: Int) {
        scratch = .allocate(capacity: scratchCapacity)
        classes = .allocate(capacity: 256)
    }

    deinit {
        scratch.deallocate()
        classes.deallocate()
    }
}

/// Splits a VNNLIB text into tokens, one at a time, straight from the reader's chunks.
///
/// The lexer holds no more than one token's bytes: no `String` of the file and no token array,
/// so memory stays flat however large the file. Every token knows its line and column.
///
/// A struct, not a class: the per-byte loops mutate position and column, and on a class every
/// such access pays for a dynamic exclusivity check (a third of the run time when measured).
struct Lexer {
    private enum CharClass: UInt8 {
        case invalid = 0, space, newline, symbol, open, close, comment, quote, bar
    }

    let path: String
    private let reader: ByteReader
    private let storage: LexerStorage
    private let maxTokenLength: Int
    private let maxVariables: Int
    private var bytes: UnsafeMutablePointer<UInt8>
    private var position = 0
    private var end = 0
    private var line = 1
    private var column = 1
    private let scratch: UnsafeMutablePointer<UInt8>
    private var scratchCount = 0
    private let classes: UnsafeMutablePointer<UInt8>

    init(reader: ByteReader, path: String, limits: VNNLibParser.Limits) {
        self.reader = reader
        self.path = path
        maxTokenLength = Swift.max(limits.maxTokenLength, 16)
        maxVariables = limits.maxVariables
        bytes = reader.buffer
        end = reader.count
        storage = LexerStorage(scratchCapacity: maxTokenLength + 1)
        scratch = storage.scratch
        classes = storage.classes
        classes.initialize(repeating: CharClass.invalid.rawValue, count: 256)
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { classes[Int(b)] = CharClass.symbol.rawValue }
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { classes[Int(b)] = CharClass.symbol.rawValue }
        for b in UInt8(ascii: "0")...UInt8(ascii: "9") { classes[Int(b)] = CharClass.symbol.rawValue }
        // SMT-LIB simple-symbol punctuation, plus ':' so that `set-info :keyword` lexes.
        for c in "~!@$%^&*_-+=<>.?/:".utf8 { classes[Int(c)] = CharClass.symbol.rawValue }
        for c in " \t\r\u{0B}\u{0C}".utf8 { classes[Int(c)] = CharClass.space.rawValue }
        classes[Int(UInt8(ascii: "\n"))] = CharClass.newline.rawValue
        classes[Int(UInt8(ascii: "("))] = CharClass.open.rawValue
        classes[Int(UInt8(ascii: ")"))] = CharClass.close.rawValue
        classes[Int(UInt8(ascii: ";"))] = CharClass.comment.rawValue
        classes[Int(UInt8(ascii: "\""))] = CharClass.quote.rawValue
        classes[Int(UInt8(ascii: "|"))] = CharClass.bar.rawValue
    }

    /// Where the next token would start if only whitespace followed; used for end-of-file errors.
    var currentLocation: SourceLocation { SourceLocation(line: line, column: column) }

    /// The text of the most recent symbol or number token (valid until the next call to `next`).
    var lastTokenText: String {
        String(decoding: UnsafeBufferPointer(start: scratch, count: scratchCount), as: UTF8.self)
    }

    // MARK: - Reading bytes

    /// The byte at the current position, or -1 at the end of the text.
    @inline(__always)
    private mutating func peek() throws(VNNLibError) -> Int {
        if position == end {
            try reader.refill()
            bytes = reader.buffer
            position = 0
            end = reader.count
            if end == 0 { return -1 }
        }
        return Int(bytes[position])
    }

    @inline(__always)
    private func classOf(_ byte: Int) -> CharClass {
        CharClass(rawValue: classes[byte]) ?? .invalid
    }

    /// Moves past one byte, keeping line and column current.
    @inline(__always)
    private mutating func advance(over byte: Int) {
        position += 1
        if byte == 0x0A {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    // MARK: - Tokens

    /// Reads the next token; `.endOfFile` once the text is used up (and on every call after).
    mutating func next() throws(VNNLibError) -> Token {
        scratchCount = 0
        while true {
            let b = try peek()
            if b < 0 { return Token(kind: .endOfFile, location: currentLocation) }
            switch classOf(b) {
            case .space:
                position += 1
                column += 1
            case .newline:
                position += 1
                line += 1
                column = 1
            case .comment:
                try skipComment()
            case .open:
                let location = currentLocation
                position += 1
                column += 1
                return Token(kind: .open, location: location)
            case .close:
                let location = currentLocation
                position += 1
                column += 1
                return Token(kind: .close, location: location)
            case .symbol:
                let location = currentLocation
                return Token(kind: try readSymbol(at: location), location: location)
            case .bar:
                let location = currentLocation
                return Token(kind: try readQuotedSymbol(at: location), location: location)
            case .quote:
                let location = currentLocation
                try skipString(at: location)
                return Token(kind: .string, location: location)
            case .invalid:
                throw unexpectedByte(b)
            }
        }
    }

    /// Skips from `;` to the end of the line; comment text is free-form, including non-ASCII.
    private mutating func skipComment() throws(VNNLibError) {
        while true {
            let b = try peek()
            if b < 0 { return }
            if b == 0x0A {
                position += 1
                line += 1
                column = 1
                return
            }
            advance(over: b)
        }
    }

    private mutating func skipString(at location: SourceLocation) throws(VNNLibError) {
        advance(over: try peek())
        while true {
            let b = try peek()
            if b < 0 {
                throw VNNLibError(kind: .syntax, path: path, location: location,
                                  message: "unterminated string literal: expected '\"' but found end of file")
            }
            advance(over: b)
            if b == Int(UInt8(ascii: "\"")) {
                // `""` is an escaped quote inside an SMT-LIB string.
                if try peek() == Int(UInt8(ascii: "\"")) {
                    advance(over: Int(UInt8(ascii: "\"")))
                    continue
                }
                return
            }
        }
    }

    private mutating func readSymbol(at location: SourceLocation) throws(VNNLibError) -> TokenKind {
        // Locals, not properties: stores through `scratch` could alias `self` as far as the
        // optimiser knows, which would force a reload of every property on every byte.
        let symbolClass = CharClass.symbol.rawValue
        let classes = self.classes, scratch = self.scratch, limit = maxTokenLength
        var n = 0
        scan: while true {
            let bytes = self.bytes, end = self.end
            var p = position
            while p < end {
                let b = bytes[p]
                if classes[Int(b)] != symbolClass {
                    position = p
                    break scan
                }
                if n == limit {
                    throw VNNLibError(kind: .limit, path: path, location: location,
                                      message: "token longer than \(limit) characters")
                }
                scratch[n] = b
                n += 1
                p += 1
            }
            position = p
            if try peek() < 0 { break }
        }
        column += n
        scratchCount = n
        // A symbol must be followed by a delimiter; anything else is a stray byte (e.g. `0.5#`).
        let b = try peek()
        if b >= 0, classOf(b) == .invalid { throw unexpectedByte(b) }
        return try classify(at: location, quoted: false)
    }

    private mutating func readQuotedSymbol(at location: SourceLocation) throws(VNNLibError) -> TokenKind {
        advance(over: try peek())
        var n = 0
        while true {
            let b = try peek()
            if b < 0 {
                throw VNNLibError(kind: .syntax, path: path, location: location,
                                  message: "unterminated quoted symbol: expected '|' but found end of file")
            }
            advance(over: b)
            if b == Int(UInt8(ascii: "|")) { break }
            if n == maxTokenLength {
                throw VNNLibError(kind: .limit, path: path, location: location,
                                  message: "token longer than \(maxTokenLength) characters")
            }
            scratch[n] = UInt8(b)
            n += 1
        }
        scratchCount = n
        return try classify(at: location, quoted: true)
    }

    // MARK: - Classifying symbols

    private func byte(_ i: Int) -> UInt8 { scratch[i] }

    private func classify(at location: SourceLocation, quoted: Bool) throws(VNNLibError) -> TokenKind {
        let n = scratchCount
        guard n > 0 else { return .symbol("") }
        let first = byte(0)
        if !quoted, looksNumeric(n) { return .number(try number(at: location)) }
        if n >= 3, first == UInt8(ascii: "X") || first == UInt8(ascii: "Y"), byte(1) == UInt8(ascii: "_") {
            if let variable = try variableName(at: location, isInput: first == UInt8(ascii: "X")) {
                return .variable(variable)
            }
            return .symbol(lastTokenText)
        }
        if !quoted, let keyword = keyword() { return .keyword(keyword) }
        return .symbol(lastTokenText)
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    /// Tokens that start like a number are numbers or errors, never symbols: `1e` or `0.5.1`
    /// should be reported as malformed numbers, not as unknown names.
    private func looksNumeric(_ n: Int) -> Bool {
        let b0 = byte(0)
        if isDigit(b0) { return true }
        guard n >= 2 else { return false }
        let b1 = byte(1)
        if b0 == UInt8(ascii: "+") || b0 == UInt8(ascii: "-") {
            return isDigit(b1) || (b1 == UInt8(ascii: ".") && n >= 3 && isDigit(byte(2)))
        }
        return b0 == UInt8(ascii: ".") && isDigit(b1)
    }

    /// Decodes `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`.
    private func number(at location: SourceLocation) throws(VNNLibError) -> Double {
        let n = scratchCount
        var i = 0
        let negative = byte(0) == UInt8(ascii: "-")
        if negative || byte(0) == UInt8(ascii: "+") { i = 1 }
        // While validating, collect the decimal significand for the fast path below.
        var significand: UInt64 = 0
        var significantDigits = 0
        var decimalExponent = 0
        var digits = 0
        while i < n, isDigit(byte(i)) {
            Self.accumulate(byte(i), &significand, &significantDigits, &decimalExponent, fractional: false)
            i += 1
            digits += 1
        }
        if i < n, byte(i) == UInt8(ascii: ".") {
            i += 1
            while i < n, isDigit(byte(i)) {
                Self.accumulate(byte(i), &significand, &significantDigits, &decimalExponent, fractional: true)
                i += 1
                digits += 1
            }
        }
        var wellFormed = digits > 0
        if wellFormed, i < n, byte(i) == UInt8(ascii: "e") || byte(i) == UInt8(ascii: "E") {
            i += 1
            var exponentSign = 1
            if i < n, byte(i) == UInt8(ascii: "+") || byte(i) == UInt8(ascii: "-") {
                if byte(i) == UInt8(ascii: "-") { exponentSign = -1 }
                i += 1
            }
            var exponentDigits = 0
            var exponent = 0
            while i < n, isDigit(byte(i)) {
                if exponent < 100_000 { exponent = exponent * 10 + Int(byte(i) - UInt8(ascii: "0")) }
                i += 1
                exponentDigits += 1
            }
            wellFormed = exponentDigits > 0
            decimalExponent += exponentSign * exponent
        }
        guard wellFormed, i == n else {
            throw VNNLibError(kind: .syntax, path: path, location: location,
                              message: "malformed number '\(lastTokenText)'")
        }
        // Clinger's fast path: a significand below 2^53 and a power of ten up to 10^22 are both
        // exact doubles, so one IEEE multiplication or division rounds correctly, exactly as
        // strtod would. About half of the numbers in VNN-COMP files qualify.
        if significantDigits <= 19, significand <= 1 << 53, abs(decimalExponent) <= 22 {
            var value = Double(significand)
            if decimalExponent < 0 {
                value /= Self.exactPowersOfTen[-decimalExponent]
            } else {
                value *= Self.exactPowersOfTen[decimalExponent]
            }
            return negative ? -value : value
        }
        scratch[n] = 0
        var parsedEnd: UnsafeMutablePointer<CChar>?
        var value = scratch.withMemoryRebound(to: CChar.self, capacity: n + 1) { strtod($0, &parsedEnd) }
        if parsedEnd.map({ UnsafeMutableRawPointer($0) }) != UnsafeMutableRawPointer(scratch + n) {
            // strtod follows the C locale's decimal point; fall back when a host changed it.
            value = Double(lastTokenText) ?? .nan
        }
        guard value.isFinite else {
            throw VNNLibError(kind: .syntax, path: path, location: location,
                              message: "number '\(lastTokenText)' is out of the range of Double")
        }
        return value
    }

    /// 10^0 … 10^22, the powers of ten that are exact in binary64.
    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Adds one digit to the significand; leading zeros are not significant, and digits past
    /// the 19th (which would overflow `UInt64`) only mark the number for the slow path.
    @inline(__always)
    private static func accumulate(_ digit: UInt8, _ significand: inout UInt64, _ significantDigits: inout Int,
                                   _ decimalExponent: inout Int, fractional: Bool) {
        let d = UInt64(digit - UInt8(ascii: "0"))
        if significantDigits == 0 && d == 0 {
            if fractional { decimalExponent -= 1 }
            return
        }
        significantDigits += 1
        if significantDigits <= 19 {
            significand = significand * 10 + d
            if fractional { decimalExponent -= 1 }
        }
    }

    /// `X_<index>` or `Y_<index>` with a canonical decimal index, else `nil`.
    ///
    /// `X_01` is rejected rather than read as `X_1`: in SMT-LIB they are different constants,
    /// and merging them silently would change the property.
    private func variableName(at location: SourceLocation, isInput: Bool) throws(VNNLibError) -> Variable? {
        let n = scratchCount
        guard byte(2) != UInt8(ascii: "0") || n == 3 else { return nil }
        var index = 0
        for i in 2..<n {
            let b = byte(i)
            guard isDigit(b) else { return nil }
            if index < Int.max / 100 { index = index * 10 + Int(b - UInt8(ascii: "0")) }
        }
        guard index < maxVariables else {
            throw VNNLibError(kind: .limit, path: path, location: location,
                              message: "variable '\(lastTokenText)' exceeds the limit of \(maxVariables) \(isInput ? "inputs" : "outputs")")
        }
        return isInput ? .input(index) : .output(index)
    }

    private func matches(_ word: StaticString) -> Bool {
        guard word.utf8CodeUnitCount == scratchCount else { return false }
        return memcmp(word.utf8Start, scratch, scratchCount) == 0
    }

    private func keyword() -> Keyword? {
        switch scratchCount {
        case 1:
            switch byte(0) {
            case UInt8(ascii: "<"): return .less
            case UInt8(ascii: ">"): return .greater
            case UInt8(ascii: "="): return .equal
            case UInt8(ascii: "+"): return .plus
            case UInt8(ascii: "-"): return .minus
            case UInt8(ascii: "*"): return .times
            default: return nil
            }
        case 2:
            if matches("<=") { return .lessEqual }
            if matches(">=") { return .greaterEqual }
            if matches("or") { return .or }
            return nil
        case 3: return matches("and") ? .and : nil
        case 4: return matches("Real") ? .real : matches("exit") ? .exit : nil
        case 6: return matches("assert") ? .assert : nil
        case 8: return matches("set-info") ? .setInfo : nil
        case 9:
            if matches("check-sat") { return .checkSat }
            if matches("get-model") { return .getModel }
            if matches("set-logic") { return .setLogic }
            return nil
        case 10: return matches("set-option") ? .setOption : nil
        case 11: return matches("declare-fun") ? .declareFun : nil
        case 13: return matches("declare-const") ? .declareConst : nil
        default: return nil
        }
    }

    // MARK: - Errors

    private func unexpectedByte(_ b: Int) -> VNNLibError {
        let location = currentLocation
        let shown: String
        if b >= 0x21 && b < 0x7F {
            shown = "unexpected character '\(Character(Unicode.Scalar(UInt8(b))))'"
        } else if b == 0x1F && location == SourceLocation(line: 1, column: 1) {
            shown = "unexpected byte 0x1F: the file looks gzip-compressed; decompress it first"
        } else {
            let hex = String(b, radix: 16, uppercase: true)
            shown = "unexpected byte 0x\(hex.count == 1 ? "0" + hex : hex)"
        }
        return VNNLibError(kind: .syntax, path: path, location: location, message: shown)
    }
}
