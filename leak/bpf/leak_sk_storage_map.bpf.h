/* The sk_storage strategy's map, declared identically by the strategy and by
 * its two counting objects, which reuse the strategy's map fd. Counting lives
 * in separate objects because kernels differ in which of them they accept,
 * and a refused program must not take the strategy down with it.
 */
#ifndef LEAK_SK_STORAGE_MAP_BPF_H
#define LEAK_SK_STORAGE_MAP_BPF_H

#include "leak_types.h"

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct leak_sk_entry);
} leak_sk SEC(".maps");

#endif
