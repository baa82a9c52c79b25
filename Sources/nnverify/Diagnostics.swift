import ArgumentParser
import Foundation
import Logging

/// Writes diagnostics to stderr so stdout stays reserved for results.
enum Diagnostics {
    /// The process-wide logger; swift-log's stderr handler, set up once.
    static let logger: Logger = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = ProcessInfo.processInfo.environment["NNVERIFY_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .notice
            return handler
        }
        return Logger(label: "nnverify")
    }()

    /// Prints a line to stderr.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Runs `body`, turning any error into a message on stderr and exit status 1, so loaders'
    /// errors (which name the file and the place) reach the user verbatim rather than as a trap.
    static func reportingErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            note("nnverify: error: \(error)")
            throw ExitCode(1)
        }
    }
}
