//! Node.js event-loop conformance: every scenario in this directory, a
//! Node script (`NN-*.js`, with its output as Node prints it in `NN-*.out`)
//! ported line by line to jsloop (module `sNN_*`). The first set (`NN-*`)
//! is the classic ordering examples; the second (`NNN-*`, numbered from
//! 101) takes its rules from Node's own test suite; this project's own
//! start at 201 (child processes and signals). A test runs the port and
//! compares its log with the `.out`, byte for byte, and reruns the `.js`
//! under `node` when it is on `PATH` to prove the `.out` is Node's.

#[macro_use]
mod log;
mod later;
mod os;

mod s01_sync_call_stack;
mod s02_timers_after_sync;
mod s03_job_queue_before_callbacks;
mod s04_macro_micro_interleave;
mod s05_nexttick_before_promises;
mod s06_tick_micro_nesting;
mod s07_checkpoint_after_each_callback;
mod s08_equal_delay_fifo;
mod s09_timers_from_timers;
mod s10_interval_clear_after_n;
mod s11_clear_timeout_same_phase;
mod s12_immediate_next_iteration;
mod s13_io_immediate_before_timeout;
mod s14_pool_completion_checkpoint;
mod s15_promise_chain;
mod s16_all_fail_fast;
mod s17_allsettled_shapes;
mod s18_race_reject_first;
mod s19_any_aggregate;
mod s20_microtask_flood_delays_timer;
mod s21_timer_loop_yields;
mod s22_async_await_basics;
mod s23_foreach_async;
mod s24_sequential_parallel_race;
mod s25_queuemicrotask_batching;
mod s26_for_await_of;
mod s27_abort_signal;
mod s28_tcp_echo_lines;
mod s29_tcp_callback_phases;
mod s30_tick_await_vs_external;
mod s31_tick_async_return;

// The second set (rules from Node's own test suite).
mod s101_beforeexit_revives_loop;
mod s102_exit_skips_beforeexit;
mod s103_unhandled_rejection_after_drain;
mod s104_rejection_handled_late;
mod s105_unhandled_rejection_modes;
mod s106_uncaught_timer_continues;
mod s107_uncaught_immediate_continues;
mod s108_nexttick_throw_continues;
mod s109_queuemicrotask_throw;
mod s110_nexttick_starvation;
mod s111_immediate_ref_unref;
mod s112_unref_interval_fires;
mod s113_timer_refresh;
mod s114_timeout_max_overflow;
mod s115_timers_promises_values;
mod s116_timers_promises_abort;
mod s117_abortsignal_timeout;
mod s118_abortsignal_any;
mod s119_message_channel_same_thread;
mod s120_worker_postmessage_order;
mod s121_worker_message_channel;
mod s122_worker_exit_and_error;
mod s123_emitter_sync_vs_once;
mod s124_tick_events_once;
mod s125_immediate_flood_vs_io;
// Child processes and signals against the loop's phases (this project's own).
mod s201_child_exit_vs_timers;
mod s202_child_output_then_exit;
mod s203_signal_vs_immediate_timeout;
mod s204_signal_during_busy_callback;

use log::check;

#[test]
fn s01_sync_call_stack() {
    check("01-sync-call-stack", s01_sync_call_stack::main)
}

#[test]
fn s02_timers_after_sync() {
    check("02-timers-after-sync", s02_timers_after_sync::main)
}

#[test]
fn s03_job_queue_before_callbacks() {
    check("03-job-queue-before-callbacks", s03_job_queue_before_callbacks::main)
}

#[test]
fn s04_macro_micro_interleave() {
    check("04-macro-micro-interleave", s04_macro_micro_interleave::main)
}

#[test]
fn s05_nexttick_before_promises() {
    check("05-nexttick-before-promises", s05_nexttick_before_promises::main)
}

#[test]
fn s06_tick_micro_nesting() {
    check("06-tick-micro-nesting", s06_tick_micro_nesting::main)
}

#[test]
fn s07_checkpoint_after_each_callback() {
    check("07-checkpoint-after-each-callback", s07_checkpoint_after_each_callback::main)
}

#[test]
fn s08_equal_delay_fifo() {
    check("08-equal-delay-fifo", s08_equal_delay_fifo::main)
}

#[test]
fn s09_timers_from_timers() {
    check("09-timers-from-timers", s09_timers_from_timers::main)
}

#[test]
fn s10_interval_clear_after_n() {
    check("10-interval-clear-after-n", s10_interval_clear_after_n::main)
}

#[test]
fn s11_clear_timeout_same_phase() {
    check("11-clear-timeout-same-phase", s11_clear_timeout_same_phase::main)
}

#[test]
fn s12_immediate_next_iteration() {
    check("12-immediate-next-iteration", s12_immediate_next_iteration::main)
}

#[test]
fn s13_io_immediate_before_timeout() {
    check("13-io-immediate-before-timeout", s13_io_immediate_before_timeout::main)
}

#[test]
fn s14_pool_completion_checkpoint() {
    check("14-pool-completion-checkpoint", s14_pool_completion_checkpoint::main)
}

#[test]
fn s15_promise_chain() {
    check("15-promise-chain", s15_promise_chain::main)
}

#[test]
fn s16_all_fail_fast() {
    check("16-all-fail-fast", s16_all_fail_fast::main)
}

#[test]
fn s17_allsettled_shapes() {
    check("17-allsettled-shapes", s17_allsettled_shapes::main)
}

#[test]
fn s18_race_reject_first() {
    check("18-race-reject-first", s18_race_reject_first::main)
}

#[test]
fn s19_any_aggregate() {
    check("19-any-aggregate", s19_any_aggregate::main)
}

#[test]
fn s20_microtask_flood_delays_timer() {
    check("20-microtask-flood-delays-timer", s20_microtask_flood_delays_timer::main)
}

#[test]
fn s21_timer_loop_yields() {
    check("21-timer-loop-yields", s21_timer_loop_yields::main)
}

#[test]
fn s22_async_await_basics() {
    check("22-async-await-basics", s22_async_await_basics::main)
}

#[test]
fn s23_foreach_async() {
    check("23-foreach-async", s23_foreach_async::main)
}

#[test]
fn s24_sequential_parallel_race() {
    check("24-sequential-parallel-race", s24_sequential_parallel_race::main)
}

#[test]
fn s25_queuemicrotask_batching() {
    check("25-queuemicrotask-batching", s25_queuemicrotask_batching::main)
}

#[test]
fn s26_for_await_of() {
    check("26-for-await-of", s26_for_await_of::main)
}

#[test]
fn s27_abort_signal() {
    check("27-abort-signal", s27_abort_signal::main)
}

#[test]
fn s28_tcp_echo_lines() {
    check("28-tcp-echo-lines", s28_tcp_echo_lines::main)
}

#[test]
fn s29_tcp_callback_phases() {
    check("29-tcp-callback-phases", s29_tcp_callback_phases::main)
}

#[test]
fn s30_tick_await_vs_external() {
    check("30-tick-await-vs-external", s30_tick_await_vs_external::main)
}

#[test]
fn s31_tick_async_return() {
    check("31-tick-async-return", s31_tick_async_return::main)
}

#[test]
fn s101_beforeexit_revives_loop() {
    check("101-beforeexit-revives-loop", s101_beforeexit_revives_loop::main)
}

#[test]
fn s102_exit_skips_beforeexit() {
    check("102-exit-skips-beforeexit", s102_exit_skips_beforeexit::main)
}

#[test]
fn s103_unhandled_rejection_after_drain() {
    check("103-unhandled-rejection-after-drain", s103_unhandled_rejection_after_drain::main)
}

#[test]
fn s104_rejection_handled_late() {
    check("104-rejection-handled-late", s104_rejection_handled_late::main)
}

#[test]
fn s105_unhandled_rejection_modes() {
    check("105-unhandled-rejection-modes", s105_unhandled_rejection_modes::main)
}

#[test]
fn s106_uncaught_timer_continues() {
    check("106-uncaught-timer-continues", s106_uncaught_timer_continues::main)
}

#[test]
fn s107_uncaught_immediate_continues() {
    check("107-uncaught-immediate-continues", s107_uncaught_immediate_continues::main)
}

#[test]
fn s108_nexttick_throw_continues() {
    check("108-nexttick-throw-continues", s108_nexttick_throw_continues::main)
}

#[test]
fn s109_queuemicrotask_throw() {
    check("109-queuemicrotask-throw", s109_queuemicrotask_throw::main)
}

#[test]
fn s110_nexttick_starvation() {
    check("110-nexttick-starvation", s110_nexttick_starvation::main)
}

#[test]
fn s111_immediate_ref_unref() {
    check("111-immediate-ref-unref", s111_immediate_ref_unref::main)
}

#[test]
fn s112_unref_interval_fires() {
    check("112-unref-interval-fires", s112_unref_interval_fires::main)
}

#[test]
fn s113_timer_refresh() {
    check("113-timer-refresh", s113_timer_refresh::main)
}

#[test]
fn s114_timeout_max_overflow() {
    check("114-timeout-max-overflow", s114_timeout_max_overflow::main)
}

#[test]
fn s115_timers_promises_values() {
    check("115-timers-promises-values", s115_timers_promises_values::main)
}

#[test]
fn s116_timers_promises_abort() {
    check("116-timers-promises-abort", s116_timers_promises_abort::main)
}

#[test]
fn s117_abortsignal_timeout() {
    check("117-abortsignal-timeout", s117_abortsignal_timeout::main)
}

#[test]
fn s118_abortsignal_any() {
    check("118-abortsignal-any", s118_abortsignal_any::main)
}

#[test]
fn s119_message_channel_same_thread() {
    check("119-message-channel-same-thread", s119_message_channel_same_thread::main)
}

#[test]
fn s120_worker_postmessage_order() {
    check("120-worker-postmessage-order", s120_worker_postmessage_order::main)
}

#[test]
fn s121_worker_message_channel() {
    check("121-worker-message-channel", s121_worker_message_channel::main)
}

#[test]
fn s122_worker_exit_and_error() {
    check("122-worker-exit-and-error", s122_worker_exit_and_error::main)
}

#[test]
fn s123_emitter_sync_vs_once() {
    check("123-emitter-sync-vs-once", s123_emitter_sync_vs_once::main)
}

#[test]
fn s124_tick_events_once() {
    check("124-tick-events-once", s124_tick_events_once::main)
}

#[test]
fn s125_immediate_flood_vs_io() {
    check("125-immediate-flood-vs-io", s125_immediate_flood_vs_io::main)
}

#[test]
fn s201_child_exit_vs_timers() {
    check("201-child-exit-vs-timers", s201_child_exit_vs_timers::main)
}

#[test]
fn s202_child_output_then_exit() {
    check("202-child-output-then-exit", s202_child_output_then_exit::main)
}

#[test]
fn s203_signal_vs_immediate_timeout() {
    check("203-signal-vs-immediate-timeout", s203_signal_vs_immediate_timeout::main)
}

#[test]
fn s204_signal_during_busy_callback() {
    check("204-signal-during-busy-callback", s204_signal_during_busy_callback::main)
}
