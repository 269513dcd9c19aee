// What Swift needs of MPI beyond the functions themselves: Open MPI's handles
// (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE, ...) are macros over the addresses of
// global objects, which Swift cannot import; these inline functions return them.
#ifndef SOFTMAX_CMPI_SHIM_H
#define SOFTMAX_CMPI_SHIM_H

#include <mpi.h>

static inline MPI_Comm softmax_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype softmax_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype softmax_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype softmax_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op softmax_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op softmax_mpi_max(void) { return MPI_MAX; }
static inline void *softmax_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int softmax_mpi_success(void) { return MPI_SUCCESS; }
static inline int softmax_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }

#endif
