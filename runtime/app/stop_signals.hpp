#pragma once

#include <csignal>

namespace ferry::app {

// Blocks SIGTERM and SIGINT in the calling thread and, since threads inherit the mask, in every
// thread started after it; wait_for_stop_signal() is then the only place they are delivered, so
// shutdown runs as ordinary code, not in a signal handler. SIGPIPE is ignored: a reader that
// goes away must not kill the process mid-shutdown. Call before starting any thread.
inline sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return signals;
}

// Waits for SIGTERM or SIGINT and returns which.
inline int wait_for_stop_signal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  return sig;
}

}  // namespace ferry::app
