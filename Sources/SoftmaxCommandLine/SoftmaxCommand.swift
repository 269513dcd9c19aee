import ArgumentParser
import Foundation
import Softmax
import SoftmaxLayers
import SoftmaxTraining

#if MPI
    import SoftmaxDistributed
#endif

/// The `softmax` command: subcommands over NumPy `.npy` files.
public struct SoftmaxCommand: ParsableCommand {
    /// The command's name, help text and subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "softmax",
        abstract:
            "Train softmax classifiers; softmax, log-softmax, logsumexp and the softmax cross-entropy loss over NumPy .npy files.",
        discussion: """
            Arrays are NumPy .npy files (format 1.0-3.0, either byte order). Outputs keep the \
            input's float type (float16, float32 or float64). '-' is standard input for an input \
            file and standard output for an output (the command's report then goes to standard \
            error). Devices, FIFOs and /dev/stdout are written through; regular files are \
            replaced atomically, through symbolic links. On bad input the tool prints one line \
            starting 'error:' and exits with a non-zero status.

            The kernels use the best instruction set of the CPU (AVX-512, AVX2, or portable); \
            the environment variable SOFTMAX_ISA=portable|avx2|avx512 asks for a lower one.

            Examples:
              softmax train
              softmax evaluate softmax-model.json
              softmax apply softmax logits.npy --output probs.npy
              softmax loss scores.npy labels.npy --ignore-index 255 --grad-output grad.npy
              cat logits.npy | softmax apply softmax - --output - > probs.npy
            """,
        subcommands: [Train.self, Evaluate.self, Predict.self, Apply.self, Loss.self, LinearLoss.self, Bench.self]
    )

    /// Creates the root command (ArgumentParser requirement).
    public init() {}

    /// Parses `arguments` (without the program name), runs the command, and reports errors
    /// as one `error:` line on standard error.
    ///
    /// - Returns: the process exit status: 0 on success, 1 for bad input, 64 for bad usage.
    public static func main(arguments: [String]) -> Int32 {
        World.run { run(arguments: arguments) }
    }

    /// `main` within the world (see `World.run`).
    private static func run(arguments: [String]) -> Int32 {
        do {
            if case .failure(let error)? = SoftmaxISA.environmentRequest { throw error }
            // A library SOFTMAX_BLAS names must load; the automatic search loads lazily.
            if case .library = SoftmaxBLAS.environmentRequest, let error = SoftmaxBLAS.loadError { throw error }
            var command = try parseAsRoot(arguments)
            try command.run()
            return 0
        } catch {
            let world = World.communicator
            guard !world.isRoot else { return exitStatus(for: error) }
            // Under mpirun every process parses the same arguments and reads the same files, so
            // most errors are every rank's: rank 0 reports them and ends the job.  Another rank
            // waits for that (3 s) and speaks only of an error of its own; `--help` is rank 0's.
            let status = exitStatus(for: error, printing: false)
            if status == 0 { return 0 }
            Thread.sleep(forTimeInterval: 3)
            return exitStatus(for: error, prefix: "rank \(world.rank): ")
        }
    }

    /// Reports `error` as the tool does — one `error:` line on standard error, or the help
    /// text on standard output for a clean exit (`--help`) — and returns the exit status.
    ///
    /// - Parameters:
    ///   - error: What `parseAsRoot` or a command's `run()` threw.
    ///   - prefix: Put after `error: ` (a data-parallel process that is not rank 0 names its rank).
    ///   - printing: False: print nothing, only compute the status.
    /// - Returns: 0 for a clean exit, 1 for bad input, 64 (or ArgumentParser's code) for bad usage.
    static func exitStatus(for error: any Error, prefix: String = "", printing: Bool = true) -> Int32 {
        func report(_ message: String, status: Int32 = 1) -> Int32 {
            if printing { FileHandle.standardError.write(Data("error: \(prefix)\(message)\n".utf8)) }
            return status
        }
        switch error {
        case let error as TrainingDiverged:
            // The library names the setting; the tool names its flag.
            return report(
                "training diverged at epoch \(error.epoch) (loss \(error.loss)): lower --lr (now \(error.learningRate))"
            )
        case let error as TrainingSettingError:
            return report(error.description(naming: error.setting.flag))
        case let error as DataRequestError:
            return report(error.description(naming: \.flag))
        case let error as any UserInputError:
            return report(error.description)
        default:
            let code = exitCode(for: error)
            if code == .success {
                if printing { print(fullMessage(for: error)) }
                return 0
            }
            // Usage errors: one line, lower-case `error:` like every other failure.
            let text = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            return report(text + " (see 'softmax --help')", status: code.rawValue == 0 ? 64 : code.rawValue)
        }
    }
}

/// A bad-input error found by the command line itself.
struct CommandLineError: UserInputError {
    let description: String
    init(_ description: String) { self.description = description }
}

extension NPYArray {
    /// Reads `path`, naming the argument in the error when the file is not a float array.
    static func readFloats(_ path: String, _ argument: String) throws -> NPYArray {
        let array = try NPYArray(contentsOf: path)
        guard array.dataType.isFloatingPoint else {
            throw CommandLineError(
                "\(argument) '\(path)' holds \(array.dataType.rawValue); float16, float32 or float64 is required")
        }
        return array
    }
}

extension NDArray where Element: NPYElement {
    /// Writes the array to a `.npy` file (see `NPYArray.write(to:)`; `-` is standard output).
    func write(to path: String) throws {
        try NPYArray(shape: shape, scalars: scalars).write(to: path)
    }
}

/// Runs `body` with the Swift type of a float array's elements.
func withFloatType<R>(
    _ type: NPYDataType, _ body: (any (SoftmaxScalar & NPYElement).Type) throws -> R
) throws -> R {
    guard let scalarType = type.scalarType else {
        throw CommandLineError("\(type.rawValue) is not a supported float type")
    }
    return try body(scalarType)
}
