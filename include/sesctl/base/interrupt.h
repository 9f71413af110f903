/* interrupt.h - SIGINT, SIGTERM and SIGHUP inside a critical section.
 *
 * Outside a critical section those signals keep their default action:
 * sesctl dies at once, and nothing is half done.  Between
 * interrupt_arm() and interrupt_disarm() (a new key exists: it is being
 * written, recorded, verified, or the old one retired) they only set a
 * flag; the code checks interrupt_caught() at each step and finishes or
 * undoes what it started before it stops.  main() then exits 128 + the
 * signal, as a shell reports a death by that signal (130 for SIGINT, 143
 * for SIGTERM, 129 for SIGHUP).  SIGKILL cannot be caught: the run lock's
 * journal (runlock.h) and the delivery record (record.h) let the next run
 * clean up after it.
 */
#ifndef SESCTL_INTERRUPT_H
#define SESCTL_INTERRUPT_H

void interrupt_arm(void);
void interrupt_disarm(void);
/* The first signal caught since interrupt_arm(), or 0. */
int interrupt_caught(void);
/* Its name ("SIGINT"). */
const char *interrupt_name(int sig);

#endif
