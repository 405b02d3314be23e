// A way back to a server's io thread for what may outlive the server: an HTTP responder another
// thread still holds, say. It posts while the server is there and drops the work once it is gone.
#ifndef CHAT_DETAIL_LIFELINE_HPP
#define CHAT_DETAIL_LIFELINE_HPP

#include <functional>  // function
#include <mutex>       // mutex, lock_guard

#include "core.hpp"

namespace chat::detail {

/// Any thread. The server's transport cuts it (under the lock) before the io_context goes, so a
/// post never reaches a destroyed one.
class Lifeline {
 public:
  explicit Lifeline(Core& core) : core_(&core) {}

  /// Runs `work` on the io thread (now when called there); false, dropping it, once cut.
  bool dispatch(std::function<void()> work) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!core_) return false;
    core_->dispatch(std::move(work));
    return true;
  }
  void cut() {
    std::lock_guard<std::mutex> lock(mutex_);
    core_ = nullptr;
  }

 private:
  std::mutex mutex_;
  Core* core_;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_LIFELINE_HPP
