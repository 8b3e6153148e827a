/* cgroup2 has no devices files: a BPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the
 * container's cgroup decides each open and mknod of a device node. It allows the helper config.s "device"
 * lines and refuses everything else, as runc and crun do on cgroup v2. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helper.h"

/* The six loads, at most seven instructions a rule, the final refusal. */
#define MAX_INSNS (6 + 7 * MAX_DEVICE_RULES + 2)

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

static int bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* The program. In: r1 = struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
 * (access_type: the device type in its low 16 bits, the access in its high 16). Out: r0 = 1 allows. */
static size_t build(const struct config *c, struct bpf_insn *p)
{
	size_t n = 0;
	p[n++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0); /* r2 = type */
	p[n++] = insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
	p[n++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0); /* r3 = access */
	p[n++] = insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	p[n++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0); /* r4 = major */
	p[n++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0); /* r5 = minor */
	for (size_t i = 0; i < c->ndevices; i++) {
		const struct device_rule *r = &c->devices[i];
		int all = r->access == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD);
		size_t next = n + 1 + (all ? 0 : 3) + (r->major >= 0) + (r->minor >= 0) + 2; /* the next rule's first */
#define TO_NEXT ((int16_t)(next - n - 1))
		p[n] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, TO_NEXT, r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR), n++;
		if (!all) { /* every access asked for is allowed: (access & allowed) == access */
			p[n++] = insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
			p[n++] = insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)r->access);
			p[n] = insn(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_3, TO_NEXT, 0), n++;
		}
		if (r->major >= 0)
			p[n] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, TO_NEXT, (int32_t)r->major), n++;
		if (r->minor >= 0)
			p[n] = insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, TO_NEXT, (int32_t)r->minor), n++;
#undef TO_NEXT
		p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
		p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	p[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	p[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	return n;
}

/* Load the program and attach it to the cgroup directory (alongside any its ancestors have: the
 * kernel allows only what every one of them allows). The cgroup keeps it until it is removed. */
int device_filter_attach(const struct config *c, const char *cgroup_dir)
{
	struct bpf_insn prog[MAX_INSNS];
	union bpf_attr load, attach;
	size_t n = build(c, prog);
	memset(&load, 0, sizeof(load));
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (uint64_t)(uintptr_t)prog;
	load.insn_cnt = (uint32_t)n;
	load.license = (uint64_t)(uintptr_t) "Apache";
	int prog_fd = bpf(BPF_PROG_LOAD, &load), saved;
	if (prog_fd < 0)
		return -1;
	int dir = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = dir;
	if (dir >= 0) {
		memset(&attach, 0, sizeof(attach));
		attach.target_fd = (uint32_t)dir;
		attach.attach_bpf_fd = (uint32_t)prog_fd;
		attach.attach_type = BPF_CGROUP_DEVICE;
		attach.attach_flags = BPF_F_ALLOW_MULTI;
		r = bpf(BPF_PROG_ATTACH, &attach);
	}
	saved = errno;
	if (dir >= 0)
		close(dir);
	close(prog_fd);
	errno = saved;
	return r < 0 ? -1 : 0;
}
