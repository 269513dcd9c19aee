import ArgumentParser
import Foundation
import Softmax
import SoftmaxDistributed
import SoftmaxTraining

/// `softmax train [DATA] [options]`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a softmax classifier (or per-pixel segmenter) with mini-batch SGD.",
        discussion: """
            Without DATA: the embedded handwritten digits (1797 8x8 images, UCI, CC BY 4.0) for \
            classification, or generated shapes images for --task segmentation. DATA may be a CSV \
            file (label in --label-column; header detected or set with --header), a .npy array \
            of features (N×F…, labels in --labels), or MNIST IDX files (images, labels in \
            --labels); any of them gzip-compressed. Segmentation reads N×C×H×W (or N×H×W) images \
            from .npy and N×H×W integer masks from --labels.

            The network: inner product (→ ReLU → inner product with --hidden N) → \
            SoftmaxWithLoss, over standardised features. Solver: Caffe's SGD (momentum, L2 \
            weight decay on weights, fixed or step learning rate). The model is written as JSON \
            (docs/model-format.md).

            Under mpirun (the tool built with --traits MPI) the processes train one model, \
            data-parallel: each takes its share of every batch, the gradients are summed with \
            one allreduce per step, and rank 0 alone prints and writes files.

            Examples:
              softmax train
              softmax train data.csv --label-column species --hidden 32 --epochs 50
              softmax train train-images-idx3-ubyte.gz --labels train-labels-idx1-ubyte.gz
              softmax train --task segmentation --plot curves.svg --mask-output mask.png
              mpirun -np 2 .build-mpi/release/softmax train
            """)

    @Argument(help: "Training data (CSV, .npy or IDX, optionally .gz); default: the built-in set of the task.")
    var data: String?

    @OptionGroup var dataOptions: DataArguments

    @Option(help: "classification or segmentation.")
    var task: SoftmaxModel.Task = .classification

    @Option(name: .customLong("test-data"), help: "A separate test set (same format); default: hold out --test-split.")
    var testData: String?

    @Option(name: .customLong("test-labels"), help: "Labels of --test-data (for .npy / IDX data).")
    var testLabels: String?

    @Option(
        name: .customLong("test-split"), parsing: .unconditional,
        help: "Fraction of samples held out for testing (stratified by class).")
    var testSplit: Double = 0.2

    @Option(parsing: .unconditional, help: "Passes over the training data (default: 30; 20 for segmentation).")
    var epochs: Int?

    @Option(
        name: .customLong("batch-size"),
        help: "Samples (images for segmentation) per mini-batch (default: 32; 8 for segmentation).")
    var batchSize: Int?

    @Option(parsing: .unconditional, help: "Learning rate (Caffe's base_lr).")
    var lr: Double = 0.05

    @Option(parsing: .unconditional, help: "Momentum.")
    var momentum: Double = 0.9

    @Option(
        name: .customLong("weight-decay"), parsing: .unconditional,
        help: "L2 weight decay on the weights (not the biases).")
    var weightDecay: Double = 1e-3

    @Option(
        name: .customLong("lr-step"),
        help: "Multiply the learning rate by --lr-gamma every N epochs (Caffe's step policy).")
    var lrStep: Int?

    @Option(name: .customLong("lr-gamma"), parsing: .unconditional, help: "The step policy's factor.")
    var lrGamma: Double = 0.1

    @Option(name: .customLong("label-smoothing"), parsing: .unconditional, help: "Label smoothing in [0, 1].")
    var labelSmoothing: Double = 0

    @Option(
        name: .customLong("class-weights"), parsing: .unconditional,
        help: "One weight per class: w0,w1,… or a .npy file.")
    var classWeights: String?

    @Option(parsing: .unconditional, help: "Seeds the split, the initial weights and the shuffles.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Add a hidden layer of N ReLU units.")
    var hidden: Int?

    @Option(
        name: .customLong("ignore-index"), parsing: .unconditional,
        help: "A label to ignore (default: 255 for the generated shapes, none otherwise).")
    var ignoreIndex: Int?

    @Option(parsing: .unconditional, help: "Segmentation: the side of the square neighbourhood each pixel sees (odd).")
    var patch: Int = 3

    @Option(name: .customLong("images"), help: "Generated shapes: how many images.")
    var generatedImages: Int = 240

    @Option(name: [.short, .long], help: "The model file to write.")
    var output: String = "softmax-model.json"

    @Option(help: "Write an SVG of loss and accuracy per epoch.")
    var plot: String?

    @Option(
        name: .customLong("mask-output"),
        help: "Segmentation: write the first test image, its true mask and the predicted mask side by side as PNG.")
    var maskOutput: String?

    @Flag(name: .customLong("no-progress"), help: "No progress bar on standard error.")
    var noProgress = false

    @Option(
        parsing: .unconditional,
        help: "Threads per process for the kernels, 0...\(Bench.maximumThreads) (default 0: all cores).")
    var threads: Int = 0

    func validate() throws {
        guard (0...Bench.maximumThreads).contains(threads) else {
            throw ValidationError("--threads \(threads): must be 0 (all cores) or 1...\(Bench.maximumThreads)")
        }
    }

    func run() throws {
        SoftmaxThreads.maximum = threads
        // Under mpirun (an MPI build): every process trains its share of each batch of one
        // model; rank 0 alone prints and writes files (`World` ends the job on an error).
        let world = World.communicator
        guard world.size > 1 else { return try train(reducer: SingleProcessReducer()) }
        let measured = MeasuredCommunicator(world)
        try train(reducer: CommunicatorGradientReducer(measured))
        if world.isRoot {
            print(
                String(
                    format: "allreduce on rank 0: %d calls, %.1f MB, %.3f s (waiting for the other ranks included)",
                    measured.allReduceCalls, Double(measured.allReduceBytes) / 1e6, measured.allReduceSeconds))
        }
    }

    /// Trains and reports: the whole command, in one process or in each process of a
    /// data-parallel job.
    ///
    /// - Parameter reducer: `SingleProcessReducer()`, or the data-parallel reducer of this
    ///   process; only its rank 0 prints, shows progress and writes the model, plot and mask.
    /// - Throws: Bad settings, data or files; `TrainingDiverged`; what the reducer throws.
    private func train(reducer: any GradientReducer) throws {
        let isRoot = reducer.processRank == 0
        let segmentation = task == .segmentation
        var settings = TrainingSettings()
        settings.epochs = epochs ?? (segmentation ? 20 : 30)
        settings.batchSize = batchSize ?? (segmentation ? 8 : 32)
        settings.learningRate = lr
        settings.momentum = momentum
        settings.weightDecay = weightDecay
        settings.learningRateStepEpochs = lrStep
        settings.learningRateGamma = lrGamma
        settings.labelSmoothing = labelSmoothing
        settings.classWeights = try classWeights.map(parseClassWeights)
        settings.seed = seed
        settings.hidden = hidden
        settings.patchSize = patch
        settings.testSplit = testSplit
        settings.ignoreIndex = ignoreIndex ?? (segmentation && data == nil ? Int(GeneratedShapes.boundaryLabel) : nil)
        try settings.validate()
        guard generatedImages >= 2, generatedImages <= 100_000 else {
            throw CommandLineError("--images \(generatedImages): must be 2...100000")
        }
        if !segmentation && maskOutput != nil { throw CommandLineError("--mask-output is for --task segmentation") }
        guard (testData == nil) == (testLabels == nil) || dataOptions.labels == nil else {
            throw CommandLineError("--test-data and --test-labels go together for .npy / IDX data")
        }
        var report = try checkOutputs(
            [("--output", output), ("--plot", plot), ("--mask-output", maskOutput)],
            inputs: [
                data, dataOptions.labels, testData, testLabels,
                classWeights.flatMap { namesClassWeightsFile($0) ? $0 : nil },
            ]
            .compactMap { $0 })
        report.isSilent = !isRoot

        var request = try dataOptions.request(path: data, task: task)
        request.generatedCount = generatedImages
        request.seed = seed
        var testRequest: DataRequest?
        if let testData {
            testRequest = request
            testRequest?.path = testData
            testRequest?.labelsPath = testLabels
        }
        let prepared = try PreparedData(request, test: testRequest, settings: settings, classNames: nil)
        let dataset = prepared.dataset
        report.line(
            "data: \(prepared.description.kind == "digits" ? "embedded digits (UCI, CC BY 4.0)" : prepared.description.path.map(inputName) ?? "generated shapes"): "
                + "\(dataset.samples) \(segmentation ? "images of \(dataset.height)x\(dataset.width), \(dataset.inputCount) channels" : "samples of \(dataset.inputCount) features"), "
                + "\(dataset.classNames.count) classes; \(prepared.trainSamples.count) train, \(prepared.testSamples.count) test"
        )
        report.line(
            "model: \(hidden.map { "\(prepared.dataset.inputCount * (segmentation ? patch * patch : 1))→\($0) ReLU→" } ?? "\(prepared.dataset.inputCount * (segmentation ? patch * patch : 1))→")\(dataset.classNames.count) softmax; "
                + "SGD lr \(settings.learningRate), momentum \(settings.momentum), weight decay \(settings.weightDecay), batch \(settings.batchSize), seed \(seed)"
        )
        if reducer.processCount > 1 {
            let processes = reducer.processCount
            let (least, most) = (settings.batchSize / processes, (settings.batchSize + processes - 1) / processes)
            report.line(
                "data-parallel over \(processes) processes: \(least == most ? "\(least)" : "\(least)-\(most)") \(segmentation ? "images" : "samples") each of every batch"
            )
        }

        let bar = ProgressBar(enabled: isRoot && !noProgress && isatty(STDERR_FILENO) == 1)
        let epochs = settings.epochs
        let digits = String(epochs).count
        let started = Date()
        let result = try Trainer(settings: settings, gradientReducer: reducer).train(
            dataset, samples: prepared.trainSamples, testSet: prepared.testSet, testSamples: prepared.testSamples,
            data: prepared.description
        ) { event in
            switch event {
            case .batch(let epoch, let done, let total):
                bar.show(epoch: epoch, of: epochs, done: done, total: total)
            case .epoch(let record):
                bar.clear()
                let number = String(repeating: " ", count: digits - String(record.epoch).count) + String(record.epoch)
                var line = "epoch \(number)/\(epochs)  loss \(String(format: "%.4f", record.trainLoss))"
                line += "  train \(percent(record.trainAccuracy))"
                if let accuracy = record.testAccuracy { line += "  test \(percent(accuracy))" }
                line +=
                    record.seconds < 1
                    ? String(format: "  (%.0f ms)", record.seconds * 1000)
                    : String(format: "  (%.2f s)", record.seconds)
                report.line(line)
            }
        }
        let seconds = Date().timeIntervalSince(started)
        guard isRoot else { return }
        try result.model.write(to: output)
        if let test = result.test {
            let kind = segmentation ? "pixel accuracy" : "accuracy"
            var line = "test \(kind) \(percent(test.accuracy))"
            if segmentation { line += ", mean IoU \(String(format: "%.4f", test.confusion.meanIntersectionOverUnion))" }
            report.line(line + String(format: " after %.1f s; model written to %@", seconds, report.name(output)))
        } else {
            report.line(
                String(format: "trained in %.1f s (no test samples); model written to %@", seconds, report.name(output))
            )
        }
        if let plot {
            let title = "softmax train: \(prepared.description.kind), \(dataset.classNames.count) classes"
            try writeText(trainingCurvesSVG(result.model.training?.history ?? [], title: title), to: plot)
            report.line("plot written to \(report.name(plot))")
        }
        if let maskOutput {
            let first = prepared.testSamples.first ?? prepared.trainSamples[0]
            let predictor = try Predictor(model: result.model)
            let set = prepared.testSet
            let mask = try predictor.predictedMask(set, sample: first)
            let truth = Array(set.labels[(first * set.positionsPerSample)..<((first + 1) * set.positionsPerSample)])
            try writeAtomically(
                try segmentationPanelPNG(set, sample: first, predicted: mask, truth: truth), to: maskOutput)
            report.line("image \(first), its true mask and the predicted mask written to \(report.name(maskOutput))")
        }
    }
}

/// Writes text atomically (see `writeAtomically`).
func writeText(_ text: String, to path: String) throws { try writeAtomically(Array(text.utf8), to: path) }

extension TrainingSettings.Setting {
    /// The `softmax train` option that sets it: how the tool names the setting in errors
    /// (the library names the property).
    var flag: String {
        switch self {
        case .epochs: "--epochs"
        case .batchSize: "--batch-size"
        case .learningRate: "--lr"
        case .momentum: "--momentum"
        case .weightDecay: "--weight-decay"
        case .learningRateStepEpochs: "--lr-step"
        case .learningRateGamma: "--lr-gamma"
        case .labelSmoothing: "--label-smoothing"
        case .classWeights: "--class-weights"
        case .hidden: "--hidden"
        case .patchSize: "--patch"
        case .testSplit: "--test-split"
        }
    }
}
