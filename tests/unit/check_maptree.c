// SPDX-License-Identifier: MIT
/* The mapping record against a brute-force model, under random operations. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "maptree.h"

#define SLOTS 512

/*
 * Red-black invariants: no red node has a red child, every path has the
 * same number of black nodes, parents point back, keys are ordered, the
 * sentinel stays black (maptree_check()); *depth gets the longest path.
 */
/* a link is the node's byte offset in the array */
static const struct mapping *node(const struct maptree *t, uint32_t off)
{
	return (const struct mapping *)((const char *)t->nodes + off);
}

static int depth_below(const struct maptree *t, uint32_t n)
{
	int dl, dr;

	if (!n)
		return 0;
	ck_assert_uint_eq(mapping_prot(node(t, n)), 3);
	dl = depth_below(t, node(t, n)->left);
	dr = depth_below(t, node(t, n)->right);
	return 1 + (dl > dr ? dl : dr);
}

static void rb_check(const struct maptree *t, int *depth)
{
	ck_assert_int_eq(maptree_check(t), 0);
	*depth = depth_below(t, t->h->root);
}

static int root_black(const struct maptree *t)
{
	return node(t, t->h->root)->bits & MAPPING_BLACK;
}

START_TEST(test_random_against_model)
{
	static uint64_t model_size[SLOTS]; /* slot i: iova i*4K, 0 = empty */
	struct maptree t;
	unsigned int seed = 12345, op;
	int i, j;

	maptree_init(&t);
	for (op = 0; op < 200000; op++) {
		i = rand_r(&seed) % SLOTS;
		if (rand_r(&seed) % 3) {
			uint64_t sz = 1 + rand_r(&seed) % 4;
			bool free = true;

			for (j = 0; j < SLOTS; j++)
				if (model_size[j] && j < i + (int)sz &&
				    i < j + (int)model_size[j])
					free = false;
			ck_assert_int_eq(maptree_find(&t, (uint64_t)i << 12,
						      sz << 12) == NULL,
					 free);
			if (i + (int)sz > SLOTS)
				continue;
			if (rand_r(&seed) % 2) {
				/* checks the overlap itself */
				ck_assert_int_eq(maptree_insert_new(&t,
						(uint64_t)i << 12, sz << 12, 0,
						3), free ? 0 : -EEXIST);
				if (free)
					model_size[i] = sz;
			} else if (free) {
				ck_assert_int_eq(maptree_insert(&t,
						(uint64_t)i << 12, sz << 12, 0,
						3), 0);
				model_size[i] = sz;
			}
		} else if (rand_r(&seed) % 2) {
			ck_assert_int_eq(maptree_remove(&t, (uint64_t)i << 12),
					 model_size[i] ? 0 : -ENOENT);
			model_size[i] = 0;
		} else {
			/* by the node a lookup found (root, left or right child) */
			const struct mapping *m =
				maptree_at(&t, (uint64_t)i << 12);

			ck_assert_int_eq(m != NULL, model_size[i] != 0);
			if (m)
				maptree_remove_mapping(&t, m);
			model_size[i] = 0;
		}
		if (op % 1000 == 0) {
			int depth;

			rb_check(&t, &depth);
		}
	}
	/* still a red-black tree with a black root */
	{
		int depth;

		rb_check(&t, &depth);
		ck_assert(root_black(&t));
	}
	/* in-order walk equals the model */
	{
		const struct mapping *m = maptree_first_from(&t, 0);
		uint32_t n = 0;

		for (j = 0; j < SLOTS; j++) {
			if (!model_size[j])
				continue;
			ck_assert_ptr_nonnull(m);
			ck_assert_uint_eq(m->iova, (uint64_t)j << 12);
			ck_assert_uint_eq(m->size, model_size[j] << 12);
			m = maptree_next(&t, m);
			n++;
		}
		ck_assert_ptr_null(m);
		ck_assert_uint_eq(maptree_count(&t), n);
	}
	maptree_destroy(&t);
}
END_TEST

START_TEST(test_balanced_and_compact)
{
	struct maptree t;
	uint32_t i;

	maptree_init(&t);
	for (i = 0; i < 65536; i++)
		ck_assert_int_eq(maptree_insert(&t, (uint64_t)i << 12, 4096, 0,
						3), 0);
	/* red-black: the longest path is at most 2 log2(n + 1) */
	{
		int depth;

		rb_check(&t, &depth);
		ck_assert_int_le(depth, 32);
		/* and removing every other one keeps it so */
		for (i = 0; i < 65536; i += 2)
			ck_assert_int_eq(maptree_remove(&t, (uint64_t)i << 12), 0);
		rb_check(&t, &depth);
		ck_assert_int_le(depth, 30);
		ck_assert_uint_eq(maptree_count(&t), 32768);
	}
	ck_assert_uint_le(maptree_bytes(&t) / 65536, 64);
	maptree_destroy(&t);
}
END_TEST

/* maptree_clear() keeps the memory and the tree works on from empty. */
START_TEST(test_clear_reuses_memory)
{
	struct maptree t;
	size_t bytes;
	uint32_t i, round;
	int depth;

	maptree_init(&t);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 3000; i++)
			ck_assert_int_eq(maptree_insert_new(&t,
					(uint64_t)i << 12, 4096, 0, 3), 0);
		ck_assert_uint_eq(maptree_count(&t), 3000);
		rb_check(&t, &depth);
		if (!round)
			bytes = maptree_bytes(&t);
		ck_assert_uint_eq(maptree_bytes(&t), bytes);
		maptree_clear(&t);
		ck_assert_uint_eq(maptree_count(&t), 0);
		ck_assert_ptr_null(maptree_first_from(&t, 0));
	}
	maptree_destroy(&t);
}
END_TEST

Suite *maptree_suite(void);

Suite *maptree_suite(void)
{
	Suite *s = suite_create("maptree");
	TCase *t = tcase_create("tree");

	tcase_add_test(t, test_random_against_model);
	tcase_add_test(t, test_balanced_and_compact);
	tcase_add_test(t, test_clear_reuses_memory);
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);
	return s;
}
