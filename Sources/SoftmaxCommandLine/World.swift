import SoftmaxDistributed

/// The processes this run of the tool belongs to: `mpirun`'s when the tool was built with the
/// `MPI` trait and launched by it, this process alone otherwise.
enum World {
    /// The group; set once by `SoftmaxCommand.main` before a command runs.
    nonisolated(unsafe) static var communicator: any Communicator = SingleProcessCommunicator()

    /// Runs `body` (a whole command, returning its exit status) in the world: under `mpirun`
    /// in an MPI build, between `MPI_Init` and `MPI_Finalize`; a rank that fails while others
    /// may wait for it in a collective ends the job (`MPI_Abort`) instead of hanging it.
    static func run(_ body: () -> Int32) -> Int32 {
        #if MPI
            if MPICommunicator.isLaunchedByMPI {
                let world: MPICommunicator
                do {
                    world = try MPICommunicator.start()
                } catch {
                    return SoftmaxCommand.exitStatus(for: error)
                }
                communicator = world
                let status = body()
                if status != 0 && world.size > 1 { world.abort(code: status) }
                world.finish()
                return status
            }
        #endif
        return body()
    }

    /// True on the rank that prints and writes files (every run without MPI).
    static var isRoot: Bool { communicator.rank == 0 }
}
