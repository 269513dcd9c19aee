import Foundation
import Softmax

/// Where a command's report (the lines it prints for a person) goes: standard output, or
/// standard error when an output file is standard output, so the data stream stays clean.
struct Report: Sendable {
    let toStandardError: Bool
    /// Writes nothing: the report of a process that is not rank 0 of a data-parallel job.
    var isSilent = false

    /// Writes `line` and a line break at once (so progress appears while training runs, also
    /// through a pipe).
    func line(_ line: String) { write(line + "\n") }

    /// Writes `text` as it is, at once (nothing when `isSilent`).
    func write(_ text: String) {
        guard !isSilent else { return }
        let handle = toStandardError ? FileHandle.standardError : FileHandle.standardOutput
        handle.write(Data(text.utf8))
    }

    /// `path` as the report names it: `standard output` for `-`.
    func name(_ path: String) -> String {
        path == FileIO.standardStream ? "standard output" : path
    }
}

/// An input path as a report names it: `standard input` for `-`.
func inputName(_ path: String) -> String {
    path == FileIO.standardStream ? "standard input" : path
}

/// Checks a command's file arguments before anything runs, and says where its report goes.
///
/// Refused: an output that is one of the inputs or another output (compared as files: `.`,
/// `..`, symbolic links and hard links see through), two inputs that both read standard input,
/// two outputs that both write standard output.  Outputs that are devices or FIFOs
/// (`/dev/null` twice) are not compared: they are written through, never replaced.
///
/// - Returns: the report, on standard error when an output is standard output.
@discardableResult
func checkOutputs(_ outputs: [(option: String, path: String?)], inputs: [String]) throws -> Report {
    let stdinReaders = inputs.filter(FileIO.readsStandardInput)
    if stdinReaders.count > 1 {
        throw CommandLineError(
            "'\(stdinReaders[0])' and '\(stdinReaders[1])' both read standard input, which can be read once")
    }
    let stdoutWriters = outputs.filter { $0.path.map(FileIO.writesToStandardOutput) ?? false }
    if stdoutWriters.count > 1 {
        throw CommandLineError(
            "\(stdoutWriters[0].option) and \(stdoutWriters[1].option) both write to standard output")
    }
    let inputFiles = inputs.map { (path: $0, identity: FileIO.fileIdentity($0)) }
    var seen: [String: String] = [:]
    for (option, path) in outputs {
        guard let path, let identity = FileIO.fileIdentity(path) else { continue }
        if let input = inputFiles.first(where: { $0.identity == identity }) {
            throw CommandLineError("\(option) '\(path)' would overwrite the input '\(input.path)'")
        }
        if let other = seen[identity] {
            throw CommandLineError("\(option) '\(path)' is also the \(other) file")
        }
        seen[identity] = option
    }
    return Report(toStandardError: !stdoutWriters.isEmpty)
}
