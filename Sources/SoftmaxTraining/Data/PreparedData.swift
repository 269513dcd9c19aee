/// The data of a training or evaluation run: the whole set, and which samples train and test.
public struct PreparedData: Sendable {
    /// The (training) data set.
    public var dataset: Dataset
    /// Training sample indices into `dataset`.
    public var trainSamples: [Int]
    /// The test set: `dataset` itself for a split, or the separate test data.
    public var testSet: Dataset
    /// Test sample indices into `testSet`.
    public var testSamples: [Int]
    /// The description stored in the model.
    public var description: DataDescription

    /// Loads `request` (and `testRequest` when given, else holds out `settings.testSplit` of
    /// the samples, stratified, with `settings.seed`).
    ///
    /// - Parameters:
    ///   - request: the training data (a file, or the embedded data set when it has no path).
    ///   - testRequest: separate test data, or `nil` to split `request`'s samples.
    ///   - settings: the task, test split and seed the split uses.
    ///   - classNames: the classes of an existing model (evaluation), or `nil` to take them
    ///     from the data (training).
    /// - Throws: `DataError` for unreadable files, mismatched shapes, unknown labels.
    public init(
        _ request: DataRequest, test testRequest: DataRequest?, settings: TrainingSettings, classNames: [String]?
    ) throws {
        let loaded = try DataLoader.load(request)
        let source = request.path ?? loaded.description.kind
        dataset = try loaded.dataset(classNames: classNames, ignoreIndex: settings.ignoreIndex, source: source)
        description = loaded.description
        if let testRequest {
            let test = try DataLoader.load(testRequest)
            testSet = try test.dataset(
                classNames: dataset.classNames, ignoreIndex: settings.ignoreIndex,
                source: testRequest.path ?? "test data")
            guard testSet.inputCount == dataset.inputCount else {
                throw DataError(
                    "the test data has \(testSet.inputCount) features per sample, the training data \(dataset.inputCount)"
                )
            }
            trainSamples = Array(0..<dataset.samples)
            testSamples = Array(0..<testSet.samples)
            description.testPath = testRequest.path
            description.testLabelsPath = testRequest.labelsPath
        } else {
            (trainSamples, testSamples) = dataset.split(testFraction: settings.testSplit, seed: settings.seed)
            testSet = dataset
        }
    }

    /// The requests that reload the data a model was trained on (for `softmax evaluate MODEL`
    /// without data): the same files or built-in set, and the same split.
    public static func requests(reproducing record: TrainingRecord, task: SoftmaxModel.Task) throws -> (
        DataRequest, DataRequest?
    ) {
        var request = DataRequest(task: task)
        let data = record.data
        switch data.kind {
        case "digits": break
        case "shapes":
            request.generatedCount = data.samples
            request.generatedSide = data.generatedSide ?? request.generatedSide
            request.seed = record.settings.seed
        default:
            guard let path = data.path else { throw DataError("the model does not record its data file") }
            request.path = path
            request.labelsPath = data.labelsPath
            if let column = data.labelColumn { request.labelColumn = LabelColumn(argument: column) }
            if let header = data.header, let mode = HeaderMode(argument: header) { request.header = mode }
        }
        guard let testPath = data.testPath else { return (request, nil) }
        var test = request
        test.path = testPath
        test.labelsPath = data.testLabelsPath
        return (request, test)
    }
}
