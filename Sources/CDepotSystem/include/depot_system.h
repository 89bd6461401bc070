#ifndef DEPOT_SYSTEM_H
#define DEPOT_SYSTEM_H
/* System calls Glibc's Swift module map leaves out. */
#include <stddef.h>
#include <sys/xattr.h>

/* Bytes the C heap holds free (glibc's mallinfo2 fordblks): memory freed by Depot that the
   allocator has not handed back to the kernel. */
size_t depot_heap_free_bytes(void);

/* Hands free heap memory back to the kernel (glibc's malloc_trim(0)); returns 1 if any was. */
int depot_heap_trim(void);
#endif
