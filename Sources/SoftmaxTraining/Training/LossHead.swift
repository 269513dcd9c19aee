import Softmax
import SoftmaxLayers

/// The loss on top of the network during training: a mini-batch's labels and
/// `SoftmaxWithLossLayer` over the network's scores.
///
/// Classification feeds the loss `[batch, classes]` scores (class axis 1).  Segmentation gets
/// the scores of every pixel as rows, lays them out as `[batch, classes, height, width]` and
/// runs the loss with `axis: 1` over the images — the per-pixel loss of a segmentation network,
/// averaged over the non-ignored pixels — then takes the gradient back to rows.
struct LossHead {
    /// The loss layer.
    let layer: SoftmaxWithLossLayer<Float>
    /// The training set (its labels, task and image size).
    let dataset: Dataset
    /// The scores as `[batch, classes, height, width]` (segmentation only).
    private let scoresNCHW: Blob<Float>
    /// The batch's labels, one per position.
    private let labels: Blob<Float>
    /// The loss, shape `[]`.
    private let top: Blob<Float>

    /// A head for `dataset` with the settings' loss options.
    ///
    /// - Parameters:
    ///   - dataset: The training set.
    ///   - settings: The ignored label, class weights and label smoothing.
    /// - Throws: `LayerError` from the loss layer.
    init(dataset: Dataset, settings: TrainingSettings) throws {
        layer = try SoftmaxWithLossLayer<Float>(
            axis: 1, ignoreLabel: settings.ignoreIndex, normalization: .valid, classWeights: settings.classWeights,
            labelSmoothing: settings.labelSmoothing)
        self.dataset = dataset
        scoresNCHW = try Blob(shape: [0])
        labels = try Blob(shape: [0])
        top = try Blob(shape: [])
    }

    /// Whether the loss runs over NCHW images rather than rows.
    private var segmentation: Bool { dataset.task == .segmentation }

    /// The mean loss of a batch, keeping what `backward` needs.
    ///
    /// - Parameters:
    ///   - scores: The network's scores of the batch's rows, `[members.count · positions, classes]`.
    ///   - members: The batch's samples.
    /// - Returns: The loss (not checked for being finite).
    /// - Throws: `SoftmaxError` for a label outside the classes.
    /// - Complexity: O(rows · classes).
    func forward(scores: Blob<Float>, samples members: ArraySlice<Int>) throws -> Double {
        let perSample = dataset.positionsPerSample
        try labels.reshape(segmentation ? [members.count, dataset.height, dataset.width] : [members.count])
        var position = 0
        for n in members {
            for p in 0..<perSample {
                labels.data[position] = Float(dataset.labels[n * perSample + p])
                position += 1
            }
        }
        return try layer.forward(bottom: [lossInput(scores, samples: members.count), labels], top: [top])
    }

    /// What `forward`'s mean loss over `members` divides by (the `.valid` normalisation):
    /// the class weights summed over the non-ignored positions, or their count without class
    /// weights.  Label smoothing does not change it.  Data-parallel training weights each
    /// process's share of a batch by it.
    ///
    /// - Parameter members: The samples `forward` was given (their labels were checked there).
    /// - Returns: The denominator; 0 when every position is ignored.
    /// - Complexity: O(members.count · positions).
    func denominator(samples members: ArraySlice<Int>) -> Double {
        let perSample = dataset.positionsPerSample
        let ignored = layer.ignoreLabel
        let weights = layer.classWeights
        var sum = 0.0
        for n in members {
            for label in dataset.labels[(n * perSample)..<((n + 1) * perSample)] where Int(label) != ignored {
                sum += weights.map { $0[Int(label)] } ?? 1
            }
        }
        return sum
    }

    /// Writes the gradient of the last `forward`'s loss into `scores.diff`.
    ///
    /// - Parameters:
    ///   - scores: The blob `forward` was given.
    ///   - count: The number of samples in the batch.
    /// - Throws: `LayerError.backwardBeforeForward` without a matching `forward`.
    /// - Complexity: O(rows · classes).
    func backward(scores: Blob<Float>, samples count: Int) throws {
        let input = segmentation ? scoresNCHW : scores
        try layer.backward(top: [top], bottom: [input, labels])
        if segmentation {
            transposeMatrices(
                scoresNCHW.diff, into: &scores.diff, count: count, rows: dataset.classNames.count,
                columns: dataset.positionsPerSample)
        }
    }

    /// The scores as the loss reads them: as they are, or transposed to NCHW.
    private func lossInput(_ scores: Blob<Float>, samples count: Int) throws -> Blob<Float> {
        guard segmentation else { return scores }
        let classes = dataset.classNames.count
        try scoresNCHW.reshape([count, classes, dataset.height, dataset.width])
        transposeMatrices(
            scores.data, into: &scoresNCHW.data, count: count, rows: dataset.positionsPerSample, columns: classes)
        return scoresNCHW
    }
}
