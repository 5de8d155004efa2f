//! The timer heap stays proportional to the live timers (spec
//! LOOP-TIMER-3), counted in heap entries through `timer_count()`; the
//! reclamation changes neither which timers run nor their order
//! (LOOP-TIMER-1, LOOP-HANDLE-1).

use std::cell::RefCell;
use std::rc::Rc;

use asyncio_future::{EventLoop, TimerHandle};

/// `n` timers doing nothing, the `i`-th at `when(i)` from now.
fn schedule(lp: &EventLoop, n: u32, when: impl Fn(u32) -> f64) -> Vec<TimerHandle> {
    (0..n)
        .map(|i| lp.call_later(when(i), || {}).unwrap())
        .collect()
}

/// The bound LOOP-TIMER-3 states for `live` timers still to run.
fn bound(live: usize) -> usize {
    100.max(2 * live)
}

#[test]
fn a_million_add_and_cancel_cycles_keep_the_heap_bounded() {
    // LOOP-TIMER-3, without the loop ever iterating.
    let lp = EventLoop::with_virtual_clock();
    let mut most = 0;
    for _ in 0..1_000_000 {
        let t = lp.call_later(10.0, || {}).unwrap();
        assert!(lp.timer_count() <= bound(1), "{}", lp.timer_count());
        t.cancel();
        most = most.max(lp.timer_count());
    }
    assert!(most <= bound(1), "{most}");
    // The rule reclaims at all (a heap that never grows past 1 would pass
    // the bound as well, so check it did grow and shrink).
    assert!(most > 50, "{most}");
}

#[test]
fn churn_beside_live_timers_stays_within_twice_the_live_ones() {
    // LOOP-TIMER-3: 1,000 live timers, 1,000,000 add+cancel cycles.
    let lp = EventLoop::with_virtual_clock();
    let live = schedule(&lp, 1_000, |i| 100.0 + f64::from(i));
    for i in 0..1_000_000 {
        let t = lp.call_later(f64::from(i % 7), || {}).unwrap();
        assert!(lp.timer_count() <= bound(live.len() + 1));
        t.cancel();
    }
    assert!(lp.timer_count() <= bound(live.len()));
    assert!(live.iter().all(|t| !t.cancelled()));
}

#[test]
fn cancelling_many_without_adding_is_reclaimed_at_the_next_iteration() {
    // LOOP-TIMER-3: CPython's check at the start of an iteration.
    let lp = EventLoop::with_virtual_clock();
    let timers = schedule(&lp, 1_000, |_| 5.0);
    for t in &timers[..900] {
        t.cancel();
    }
    // Cancelling twice counts once.
    timers[0].cancel();
    assert_eq!(lp.timer_count(), 1_000);
    lp.stop();
    lp.run_forever().unwrap();
    assert_eq!(lp.timer_count(), 100);
}

#[test]
fn fewer_than_half_cancelled_are_left_in_place() {
    // LOOP-TIMER-3: the fraction rule; 499 of 1,000 stay until they reach
    // the top of the heap.
    let lp = EventLoop::with_virtual_clock();
    let timers = schedule(&lp, 1_000, |i| 5.0 + f64::from(i));
    for t in timers.iter().skip(1).step_by(2).take(499) {
        t.cancel();
    }
    lp.stop();
    lp.run_forever().unwrap();
    assert_eq!(lp.timer_count(), 1_000);
    // Exactly half is not more than half.
    timers[2].cancel();
    lp.call_later(1.0, || {}).unwrap();
    assert_eq!(lp.timer_count(), 1_001);
    timers[4].cancel();
    timers[6].cancel();
    lp.call_later(1.0, || {}).unwrap();
    assert_eq!(lp.timer_count(), 1_002 - 502);
}

#[test]
fn small_heaps_are_not_rebuilt() {
    // LOOP-TIMER-3: 100 entries or fewer are left alone.
    let lp = EventLoop::with_virtual_clock();
    let timers = schedule(&lp, 99, |_| 5.0);
    for t in &timers {
        t.cancel();
    }
    lp.call_later(1.0, || {}).unwrap();
    assert_eq!(lp.timer_count(), 100);
    // The 101st entry crosses the line.
    lp.call_later(1.0, || {}).unwrap();
    assert_eq!(lp.timer_count(), 2);
}

#[test]
fn a_timer_cancelled_after_it_ran_is_not_counted() {
    // LOOP-TIMER-3: only timers still to run count as cancelled entries.
    let lp = EventLoop::with_virtual_clock();
    let ran = schedule(&lp, 200, |_| 1.0);
    lp.call_later(1.5, || {}).unwrap();
    let stopper = lp.clone();
    lp.call_later(2.0, move || stopper.stop()).unwrap();
    lp.run_forever().unwrap();
    for t in &ran {
        t.cancel();
    }
    let later = schedule(&lp, 150, |_| 10.0);
    // Had the 200 counted, this heap of 150 live timers would be rebuilt.
    for t in &later[..74] {
        t.cancel();
    }
    lp.call_later(10.0, || {}).unwrap();
    assert_eq!(lp.timer_count(), 151);
}

#[test]
fn reclaiming_keeps_which_timers_run_and_their_order() {
    // LOOP-TIMER-1, LOOP-HANDLE-1, LOOP-TIMER-3: a rebuild in the middle.
    let lp = EventLoop::with_virtual_clock();
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut expected = Vec::new();
    let mut handles = Vec::new();
    for i in 0..600u32 {
        let when = f64::from((i * 37) % 11);
        let l = log.clone();
        handles.push(lp.call_later(when, move || l.borrow_mut().push(i)).unwrap());
        if i % 3 != 0 {
            expected.push((when.to_bits(), i));
        }
    }
    for (i, h) in handles.iter().enumerate() {
        if i % 3 == 0 {
            h.cancel();
        }
    }
    // 200 cancelled of 600: not yet; 202 more timers cancelled at once.
    let extra = schedule(&lp, 202, |_| 3.0);
    for t in &extra {
        t.cancel();
    }
    lp.call_later(20.0, || {}).unwrap();
    assert_eq!(lp.timer_count(), 401, "402 cancelled of 803 rebuilt");
    let stopper = lp.clone();
    lp.call_later(30.0, move || stopper.stop()).unwrap();
    lp.run_forever().unwrap();
    expected.sort();
    let expected: Vec<u32> = expected.into_iter().map(|(_, i)| i).collect();
    assert_eq!(*log.borrow(), expected);
}

#[test]
fn a_heap_just_over_the_threshold_is_rebuilt_at_the_next_call_at() {
    // LOOP-TIMER-3: CPython's exact threshold (more than 100 entries, more
    // than half cancelled), not a looser one: 102 entries after the new
    // one, 52 cancelled is more than half; 51 is not.
    let lp = EventLoop::with_virtual_clock();
    let timers = schedule(&lp, 101, |i| 100.0 + f64::from(i));
    timers.iter().take(51).for_each(TimerHandle::cancel);
    lp.call_later(500.0, || {}).unwrap();
    assert_eq!(lp.timer_count(), 102, "51 of 102: not more than half");
    timers[51].cancel();
    lp.call_later(500.0, || {}).unwrap();
    assert_eq!(
        lp.timer_count(),
        51,
        "49 left of the 101, and the two new ones"
    );
}

#[test]
fn cancelled_timers_popped_at_the_top_are_no_longer_counted() {
    // LOOP-TIMER-3: cancelled timers that left the heap from its top do not
    // count towards the next rebuild.
    let lp = EventLoop::with_virtual_clock();
    let timers = schedule(&lp, 200, |i| 1.0 + f64::from(i));
    // The 60 earliest cancelled: 120 of 200 is not more than half.
    timers.iter().take(60).for_each(TimerHandle::cancel);
    assert_eq!(lp.timer_count(), 200);
    // Loop time moving past them pops them off the top (no live timer is
    // due before 61 s).
    let t = lp.create_task(asyncio_future::sleep(60.5)).unwrap();
    lp.run_until_complete(&t).unwrap();
    assert_eq!(lp.timer_count(), 140);
    // 30 more: 30 of 140 cancelled, no rebuild (a stale count of 90 would
    // rebuild down to 110).
    timers
        .iter()
        .skip(100)
        .take(30)
        .for_each(TimerHandle::cancel);
    lp.call_later(500.0, || {}).unwrap();
    assert_eq!(lp.timer_count(), 141);
}
