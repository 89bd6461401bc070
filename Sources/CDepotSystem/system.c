#include "depot_system.h"

#include <malloc.h>

size_t depot_heap_free_bytes(void) {
    struct mallinfo2 info = mallinfo2();
    return info.fordblks;
}

int depot_heap_trim(void) { return malloc_trim(0); }
