import ArgumentParser
import Softmax

/// The LLM options of `loss`, `linear-loss` and `bench`: `--temperature`, `--softcap`,
/// `--z-loss` (SPEC "Logit transforms and z-loss"), declared once.
struct LogitTransformArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: "Divide the logits by T > 0 before the softmax.")
    var temperature: Double = 1

    @Option(parsing: .unconditional, help: "Cap the logits softly at ±C: C·tanh(x/C), after the temperature.")
    var softcap: Double?

    @Option(
        name: .customLong("z-loss"), parsing: .unconditional,
        help: "Add Z·logsumexp² per position not ignored (PaLM: 1e-4).")
    var zLoss: Double = 0

    /// True when any of the three is set.
    var isSet: Bool { temperature != 1 || softcap != nil || zLoss != 0 }

    /// `options` with these three set.
    func applied(to options: CrossEntropyOptions) -> CrossEntropyOptions {
        var options = options
        options.temperature = temperature
        options.softcap = softcap
        options.zLoss = zLoss
        return options
    }
}
