// SPDX-License-Identifier: MIT
/* The mapping record against a brute-force model, under random operations. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "maptree.h"

#define SLOTS 512

static const struct mapping *nd(const struct maptree *t, uint32_t i)
{
	return &t->chunks[i >> MAPTREE_CHUNK_SHIFT]
			 [i & ((1u << MAPTREE_CHUNK_SHIFT) - 1)];
}

/*
 * Red-black invariants below i: no red node has a red child, every path has
 * the same number of black nodes (returned), parents point back, keys are
 * ordered; *depth gets the longest path.
 */
static int rb_check(const struct maptree *t, uint32_t i, uint32_t parent,
		    int *depth)
{
	const struct mapping *n;
	int dl = 0, dr = 0, bl, br;

	if (!i) {
		*depth = 0;
		return 1;
	}
	n = nd(t, i);
	ck_assert_uint_eq(n->parent, parent);
	if (!n->black) {
		ck_assert(!n->left || nd(t, n->left)->black);
		ck_assert(!n->right || nd(t, n->right)->black);
	}
	if (n->left)
		ck_assert(nd(t, n->left)->iova < n->iova);
	if (n->right)
		ck_assert(nd(t, n->right)->iova > n->iova);
	bl = rb_check(t, n->left, i, &dl);
	br = rb_check(t, n->right, i, &dr);
	ck_assert_int_eq(bl, br);
	*depth = 1 + (dl > dr ? dl : dr);
	return bl + (n->black ? 1 : 0);
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
			if (free && i + (int)sz <= SLOTS) {
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

			rb_check(&t, t.root, 0, &depth);
		}
	}
	/* still a red-black tree with a black root */
	{
		int depth;

		rb_check(&t, t.root, 0, &depth);
		ck_assert(!t.root || nd(&t, t.root)->black);
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

		rb_check(&t, t.root, 0, &depth);
		ck_assert_int_le(depth, 32);
		/* and removing every other one keeps it so */
		for (i = 0; i < 65536; i += 2)
			ck_assert_int_eq(maptree_remove(&t, (uint64_t)i << 12), 0);
		rb_check(&t, t.root, 0, &depth);
		ck_assert_int_le(depth, 30);
		ck_assert_uint_eq(maptree_count(&t), 32768);
	}
	ck_assert_uint_le(maptree_bytes(&t) / 65536, 64);
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
	tcase_set_timeout(t, 60);
	suite_add_tcase(s, t);
	return s;
}
