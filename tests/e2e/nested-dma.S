/* SPDX-License-Identifier: MIT */
/*
 * nested-dma.S: a 64 KiB "BIOS" for the nested QEMU (qemu-system-x86_64 -bios nested-dma.bin)
 * that drives QEMU's edu device, passed through with -device vfio-pci, in a few milliseconds
 * instead of a nested Linux boot (minutes under TCG in TCG).
 *
 * It finds the edu (1234:11e8) on bus 0, gives it BAR0 = 0xfe000000, enables memory decoding
 * and bus mastering, checks edu's id and liveness registers, fills 2 KiB of guest RAM with a
 * pattern, and has edu's DMA engine copy it RAM -> edu -> other RAM. The addresses given to
 * edu are guest-physical: with vfio-pci they are IOVAs of the container that QEMU filled with
 * its guest RAM (MAP_DMA), so a match proves those mappings carry real device DMA.
 *
 * Peer-to-peer, when an e1000e (8086:10d3) is passed through as well: its BAR0 goes to
 * 0x0e000000 (above the 128 MiB of RAM, inside edu's 28-bit DMA reach), memory decoding on,
 * and QEMU maps that BAR's mmap into the container. edu's DMA engine then writes a word into
 * the e1000e's receive-address register RAL0 (BAR0 + 0x5400) and the CPU reads it back from
 * the BAR; the CPU writes another word there and edu's DMA reads it into RAM. Both legs cross
 * the IOMMU from one assigned device to the other's BAR.
 *
 * Result: text on the debug console (port 0xe9, -device isa-debugcon) and QEMU's exit status
 * through -device isa-debug-exit,iobase=0xf4 (status = value * 2 + 1):
 *   33 ok, 3 no edu on bus 0, 5 id/liveness wrong, 7 DMA never finished, 9 data mismatch,
 *   11 P2P write (edu -> e1000e BAR) not seen in the BAR, 13 P2P read (e1000e BAR -> edu) wrong.
 *
 * Built with -DCPR_LOOP (nested-loop.bin, for the cpr scenario) it never exits after the first
 * round trip: it repeats it forever with a new pattern each time and counts the rounds that
 * matched in the 32-bit word at COUNTER (guest RAM 0x300000), so the counter keeps advancing
 * only while the guest runs and edu's DMA through the container's mappings stays intact, e.g.
 * across a QEMU live update. A mismatch ends QEMU with status 9 as above.
 *
 * Build: cc -m32 -c nested-dma.S && ld -m elf_i386 -Ttext=0xffff0000 --oformat binary
 */
#define BAR0	0xfe000000
#define SRC	0x00100000	/* guest RAM; edu's DMA mask is 28 bits */
#define DST	0x00200000
#define EDUBUF	0x40000		/* edu's 4 KiB buffer in its DMA space */
#define LEN	2048		/* QEMU 7.2's edu aborts on a DMA ending at its buffer's end */
#define NICBAR	0x0e000000	/* the e1000e's BAR0, when there is one */
#define RAL0	0x5400		/* e1000e receive address low 0: 32 bits, read-write */
#define P2PW	0x5a3cc3a5	/* the word edu writes into the BAR */
#define P2PR	0x1e2d3c4b	/* the word the CPU writes there for edu to read */
#define COUNTER	0x00300000	/* CPR_LOOP: round trips that matched */

	.code16
	.text
	.globl _start
_start:					/* real mode, CS base 0xffff0000 */
	cli
	cld
	lgdtl %cs:(gdt_desc - _start)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $pm32

	.code32
pm32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl $0x80000, %esp
	movl $msg_hello, %esi
	call puts

	/* find 1234:11e8 on bus 0 (configuration mechanism #1) */
	xorl %ebx, %ebx
1:	movl %ebx, %eax
	shll $11, %eax
	orl $0x80000000, %eax
	movl %eax, %edi			/* config address of function 0 of device ebx */
	movw $0xcf8, %dx
	outl %eax, %dx
	movw $0xcfc, %dx
	inl %dx, %eax
	cmpl $0x11e81234, %eax
	je 2f
	incl %ebx
	cmpl $32, %ebx
	jb 1b
	movl $msg_noedu, %esi
	movb $1, %cl
	jmp fail

2:	movl $msg_found, %esi
	call puts
	leal 0x10(%edi), %eax		/* BAR0 */
	movl $BAR0, %ecx
	call cfg_write
	leal 0x04(%edi), %eax		/* command: memory space + bus master */
	movl $0x0006, %ecx
	call cfg_write

	cmpl $0x010000ed, BAR0		/* edu id register: version 1.0 */
	jne 3f
	movl $0x12345678, BAR0 + 4	/* liveness: reads back inverted */
	cmpl $0xedcba987, BAR0 + 4
	je 4f
3:	movl $msg_id, %esi
	movb $2, %cl
	jmp fail

4:	movl $SRC, %edi			/* the pattern, and a zeroed destination */
	movl $LEN / 4, %ecx
	movl $0x9e3779b9, %eax
5:	movl %eax, (%edi)
	addl $4, %edi
	roll $5, %eax
	addl $0x7f4a7c15, %eax
	loop 5b
	movl $DST, %edi
	movl $LEN / 4, %ecx
	xorl %eax, %eax
	rep stosl

	movl $SRC, BAR0 + 0x80		/* RAM -> edu */
	movl $EDUBUF, BAR0 + 0x88
	movl $LEN, BAR0 + 0x90
	movl $1, BAR0 + 0x98
	call dma_wait
	movl $EDUBUF, BAR0 + 0x80	/* edu -> RAM */
	movl $DST, BAR0 + 0x88
	movl $LEN, BAR0 + 0x90
	movl $3, BAR0 + 0x98
	call dma_wait

	movl $SRC, %esi
	movl $DST, %edi
	movl $LEN / 4, %ecx
	repe cmpsl
	je 6f
	movl $msg_mismatch, %esi
	movb $4, %cl
	jmp fail
6:	movl $msg_ok, %esi
	call puts

	/* peer-to-peer, if an e1000e is there too */
	xorl %ebx, %ebx
10:	movl %ebx, %eax
	shll $11, %eax
	orl $0x80000000, %eax
	movl %eax, %edi
	movw $0xcf8, %dx
	outl %eax, %dx
	movw $0xcfc, %dx
	inl %dx, %eax
	cmpl $0x10d38086, %eax
	je 11f
	incl %ebx
	cmpl $32, %ebx
	jb 10b
	jmp done			/* no second device: the RAM test was all */

11:	leal 0x10(%edi), %eax		/* BAR0 */
	movl $NICBAR, %ecx
	call cfg_write
	leal 0x04(%edi), %eax		/* command: memory space */
	movl $0x0002, %ecx
	call cfg_write
	movl $msg_nic, %esi
	call puts

	movl $P2PW, SRC			/* RAM -> edu -> the e1000e's BAR */
	movl $SRC, BAR0 + 0x80
	movl $EDUBUF, BAR0 + 0x88
	movl $4, BAR0 + 0x90
	movl $1, BAR0 + 0x98
	call dma_wait
	movl $EDUBUF, BAR0 + 0x80
	movl $NICBAR + RAL0, BAR0 + 0x88
	movl $4, BAR0 + 0x90
	movl $3, BAR0 + 0x98
	call dma_wait
	cmpl $P2PW, NICBAR + RAL0
	je 12f
	movl $msg_p2pw, %esi
	movb $5, %cl
	jmp fail

12:	movl $P2PR, NICBAR + RAL0	/* the e1000e's BAR -> edu -> RAM */
	movl $0, DST
	movl $NICBAR + RAL0, BAR0 + 0x80
	movl $EDUBUF, BAR0 + 0x88
	movl $4, BAR0 + 0x90
	movl $1, BAR0 + 0x98
	call dma_wait
	movl $EDUBUF, BAR0 + 0x80
	movl $DST, BAR0 + 0x88
	movl $4, BAR0 + 0x90
	movl $3, BAR0 + 0x98
	call dma_wait
	cmpl $P2PR, DST
	je 13f
	movl $msg_p2pr, %esi
	movb $6, %cl
	jmp fail
13:	movl $msg_p2p, %esi
	call puts

done:
#ifdef CPR_LOOP
	movl $msg_loop, %esi
	call puts
	movl $0, COUNTER
20:	movl $SRC, %edi			/* a pattern seeded by the round number */
	movl $LEN / 4, %ecx
	movl COUNTER, %eax
	imull $0x9e3779b9, %eax
	xorl $0x5bd1e995, %eax
21:	movl %eax, (%edi)
	addl $4, %edi
	roll $7, %eax
	addl $0x7f4a7c15, %eax
	loop 21b
	movl $DST, %edi
	movl $LEN / 4, %ecx
	xorl %eax, %eax
	rep stosl
	movl $SRC, BAR0 + 0x80		/* RAM -> edu -> RAM, as above */
	movl $EDUBUF, BAR0 + 0x88
	movl $LEN, BAR0 + 0x90
	movl $1, BAR0 + 0x98
	call dma_wait
	movl $EDUBUF, BAR0 + 0x80
	movl $DST, BAR0 + 0x88
	movl $LEN, BAR0 + 0x90
	movl $3, BAR0 + 0x98
	call dma_wait
	movl $SRC, %esi
	movl $DST, %edi
	movl $LEN / 4, %ecx
	repe cmpsl
	je 22f
	movl $msg_mismatch, %esi
	movb $4, %cl
	jmp fail
22:	incl COUNTER
	jmp 20b
#endif
	movb $0x10, %al
	outb %al, $0xf4
	jmp halt

/* cfg_write: config address eax, value ecx */
cfg_write:
	movw $0xcf8, %dx
	outl %eax, %dx
	movw $0xcfc, %dx
	movl %ecx, %eax
	outl %eax, %dx
	ret

/* dma_wait: until edu clears the command register's run bit (it runs from a 100 ms timer) */
dma_wait:
	movl $0x40000000, %ecx
7:	testl $1, BAR0 + 0x98
	jz 8f
	loop 7b
	movl $msg_timeout, %esi
	movb $3, %cl
	jmp fail
8:	ret

/* fail: message esi, exit code cl */
fail:
	call puts
	movb %cl, %al
	outb %al, $0xf4
halt:
	hlt
	jmp halt

puts:
	lodsb
	testb %al, %al
	jz 9f
	outb %al, $0xe9
	jmp puts
9:	ret

msg_hello:	.asciz "nested: firmware up\n"
msg_noedu:	.asciz "nested: FAIL no edu (1234:11e8) on bus 0\n"
msg_found:	.asciz "nested: edu found, BAR0 at 0xfe000000\n"
msg_id:		.asciz "nested: FAIL edu id/liveness registers wrong\n"
msg_timeout:	.asciz "nested: FAIL edu DMA did not finish\n"
msg_mismatch:	.asciz "nested: FAIL DMA data mismatch\n"
msg_ok:		.asciz "nested: DMA RAM->edu->RAM 2048 bytes at IOVA 0x100000 -> 0x200000: data matches\n"
msg_loop:	.asciz "nested: looping: DMA round trips counted at 0x300000\n"
msg_nic:	.asciz "nested: e1000e found, BAR0 at 0x0e000000\n"
msg_p2pw:	.asciz "nested: FAIL P2P edu DMA write into the e1000e BAR (RAL0) not read back\n"
msg_p2pr:	.asciz "nested: FAIL P2P edu DMA read of the e1000e BAR (RAL0) wrong\n"
msg_p2p:	.asciz "nested: P2P edu DMA -> e1000e BAR0+0x5400 and back at IOVA 0x0e005400: data matches\n"

	.p2align 3
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, flat 4 GiB, 32-bit */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat 4 GiB */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt

	.code16
	.org 0xfff0			/* the reset vector: 0xfffffff0 */
	jmp _start
	.org 0x10000
