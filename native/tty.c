/* -t: the container's pseudo-terminal (from its own devpts) and the monitor's relay to the CLI's. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helper.h"

/* Container side, after pivot_root: a pty from the container's devpts; the master goes to the
 * monitor over `sock`, the slave becomes the controlling terminal, stdio and (console: the
 * container's first process, not an exec'd one) /dev/console. */
int container_tty(int sock, int console)
{
	char name[64];
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
		return -1;
	if (fd_send(sock, master) < 0)
		return -1;
	close(master);
	/* Go on once the monitor has set the terminal's size (tty_receive): a command's first `stty size`
	 * would otherwise find 0 0. EOF (the monitor went away) is no reason to stop here. */
	char ack;
	while (read(sock, &ack, 1) < 0 && errno == EINTR)
		;
	close(sock);
	if (setsid() < 0)
		return -1;
	int slave = open(name, O_RDWR | O_CLOEXEC);
	if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0)
		return -1;
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return -1;
	close(slave);
	/* /dev/console: the mount point the helper config made, if any */
	if (console && access("/dev/console", F_OK) == 0 && mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return -1;
	return 0;
}

/* The CLI's terminal size (the monitor's stdout's, else its stdin's) onto the container's terminal. */
void tty_copy_size(int master)
{
	struct winsize ws;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 || ioctl(0, TIOCGWINSZ, &ws) == 0)
		ioctl(master, TIOCSWINSZ, &ws);
}

/* Monitor side: the master sent by container_tty, or -1 (the container failed before); its size set
 * before the container is let go on. */
int tty_receive(int sock)
{
	int master = fd_receive(sock, 0);
	if (master >= 0) {
		tty_copy_size(master);
		/* a failed write: the container sees EOF once we close the socket, and goes on as well */
		ssize_t sent = write(sock, "s", 1);
		(void)sent;
	}
	return master;
}
