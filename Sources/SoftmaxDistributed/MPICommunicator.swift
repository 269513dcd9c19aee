#if MPI
    import CMPI
    import Foundation

    /// `MPI_COMM_WORLD` of Open MPI (or any MPI whose `mpi.h` the `CMPI` shim compiles against):
    /// the processes `mpirun -np K` started.
    ///
    /// Available when the package is built with the `MPI` trait (`swift build --traits MPI`),
    /// which links the library found by pkg-config (`ompi-c`).  `MPICommunicator.start()`
    /// initialises MPI once per process; `finish()` finalises it (no MPI call may follow).
    public final class MPICommunicator: Communicator {
        /// This process's rank in `MPI_COMM_WORLD`.
        public let rank: Int
        /// The number of processes in `MPI_COMM_WORLD`.
        public let size: Int

        private init(rank: Int, size: Int) {
            self.rank = rank
            self.size = size
        }

        /// True when the environment says `mpirun` (Open MPI's, or a PMI/PMIx launcher such as
        /// Slurm's `srun`) started this process.
        public static var isLaunchedByMPI: Bool {
            let environment = ProcessInfo.processInfo.environment
            return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "PMI_RANK"].contains { environment[$0] != nil }
        }

        /// Initialises MPI (`MPI_Init_thread`, funneled: only the thread that called this makes
        /// MPI calls) and returns the world communicator.
        ///
        /// - Throws: `CommunicationError` when MPI fails to start.
        public static func start() throws -> MPICommunicator {
            var provided: Int32 = 0
            try check(MPI_Init_thread(nil, nil, softmax_mpi_thread_funneled(), &provided), "MPI_Init_thread")
            var rank: Int32 = 0
            var size: Int32 = 0
            try check(MPI_Comm_rank(softmax_mpi_comm_world(), &rank), "MPI_Comm_rank")
            try check(MPI_Comm_size(softmax_mpi_comm_world(), &size), "MPI_Comm_size")
            return MPICommunicator(rank: Int(rank), size: Int(size))
        }

        /// Finalises MPI (`MPI_Finalize`).
        public func finish() { MPI_Finalize() }

        /// Ends every process of the job (`MPI_Abort`): what a rank does after an error the others
        /// cannot see, so that they do not wait for it forever in a collective.
        ///
        /// - Parameter code: The exit code `mpirun` reports.
        public func abort(code: Int32) -> Never {
            MPI_Abort(softmax_mpi_comm_world(), code)
            exit(code)
        }

        private static func check(_ code: Int32, _ call: String) throws {
            guard code == softmax_mpi_success() else { throw CommunicationError("\(call) returned MPI error \(code)") }
        }

        /// Counts above `Int32.max` are sent in pieces: MPI's counts are `int`.
        private func inPieces<T>(
            _ values: UnsafeMutableBufferPointer<T>, _ body: (UnsafeMutablePointer<T>, Int32) throws -> Void
        ) throws {
            guard let base = values.baseAddress else { return }
            var start = 0
            while start < values.count {
                let count = Swift.min(values.count - start, Int(Int32.max))
                try body(base + start, Int32(count))
                start += count
            }
        }

        /// `MPI_Allreduce` in place of `values` as `datatype`, in pieces of at most
        /// `Int32.max` elements.
        private func allReduce<T>(
            _ values: UnsafeMutableBufferPointer<T>, _ datatype: MPI_Datatype, _ operation: ReductionOperation
        ) throws {
            try inPieces(values) { base, count in
                try Self.check(
                    MPI_Allreduce(
                        softmax_mpi_in_place(), base, count, datatype, Self.mpiOperation(operation),
                        softmax_mpi_comm_world()), "MPI_Allreduce")
            }
        }

        public func allReduce(_ values: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation) throws {
            try allReduce(values, softmax_mpi_float(), operation)
        }

        public func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ operation: ReductionOperation) throws {
            try allReduce(values, softmax_mpi_double(), operation)
        }

        public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, from root: Int) throws {
            let typed = bytes.bindMemory(to: UInt8.self)
            try inPieces(typed) { base, count in
                try Self.check(
                    MPI_Bcast(base, count, softmax_mpi_byte(), Int32(root), softmax_mpi_comm_world()), "MPI_Bcast")
            }
        }

        public func barrier() throws {
            try Self.check(MPI_Barrier(softmax_mpi_comm_world()), "MPI_Barrier")
        }

        private static func mpiOperation(_ operation: ReductionOperation) -> MPI_Op {
            switch operation {
            case .sum: softmax_mpi_sum()
            case .maximum: softmax_mpi_max()
            }
        }
    }
#endif
