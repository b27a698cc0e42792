//! A client's push queue: what the engine sends a connection outside its replies (Pub/Sub
//! messages, MONITOR lines, tracking invalidations), drained by the connection's task.
//!
//! Every connection has one from its first byte, and most never receive anything, so an
//! idle queue must cost next to nothing: a tokio unbounded channel allocates its first
//! block of 32 slots (over a kilobyte) when it is created; this queue is a `VecDeque` that
//! allocates on the first message and gives a burst's room back once drained.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// Room kept after a burst is drained: larger buffers are released.
const KEEP_CAPACITY: usize = 16;

/// A queued message's room in the queue.
const SLOT: usize = std::mem::size_of::<Bytes>();

/// The room of a queue of `capacity` beyond what it keeps: grown by a burst, given back
/// once the burst is drained, so in flight meanwhile.
fn burst_room(capacity: usize) -> usize {
    capacity.saturating_sub(KEEP_CAPACITY) * SLOT
}

/// Bytes queued for connections that are writing freely (see [`in_flight_bytes`]).
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

/// Bytes waiting in the queues of connections whose sockets take what they write: they
/// are on their way out within microseconds, as Redis writes its clients' buffers before
/// it runs the next command, so `maxmemory` does not count them (counted, the
/// invalidations an eviction sends would make the next command evict again). A
/// connection whose socket is full ([`PushReceiver::set_stalled`]) counts its queue.
pub fn in_flight_bytes() -> u64 {
    IN_FLIGHT.load(Ordering::Relaxed)
}

/// What a message's frame occupies in the allocator (its size class), the figure counted
/// in flight for it and landed again once it is written.
pub fn footprint(msg: &Bytes) -> usize {
    crate::telemetry::process::allocation_size(msg.len())
}

#[derive(Debug, Default)]
struct Queue {
    messages: Mutex<VecDeque<Bytes>>,
    ready: Notify,
    closed: AtomicBool,
    /// The connection's socket is full: what it is sent is not in flight.
    stalled: AtomicBool,
    /// This queue's share of [`IN_FLIGHT`].
    in_flight: AtomicU64,
}

impl Queue {
    /// Takes the oldest message, releasing a drained burst's room.
    fn pop(&self) -> Option<Bytes> {
        let mut messages = self.messages.lock();
        let msg = messages.pop_front()?;
        if messages.is_empty() && messages.capacity() > KEEP_CAPACITY {
            // The room `send` counted in flight as it grew.
            self.land(burst_room(messages.capacity()) as u64);
            *messages = VecDeque::new();
        }
        Some(msg)
    }

    /// Takes up to `bytes` off this queue's in-flight share (and the total): messages stay
    /// in flight from their sending until the connection has written them.
    fn land(&self, bytes: u64) {
        let taken = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                Some(v.saturating_sub(bytes))
            })
            .map_or(0, |before| before.min(bytes));
        if taken > 0 {
            IN_FLIGHT.fetch_sub(taken, Ordering::Relaxed);
        }
    }
}

/// The sending side, cloned wherever the engine keeps a way to reach the client.
#[derive(Debug, Clone)]
pub struct PushSender(Arc<Queue>);

/// The receiving side, owned by the connection's task.
#[derive(Debug)]
pub struct PushReceiver(Arc<Queue>);

/// A new queue.
pub fn push_queue() -> (PushSender, PushReceiver) {
    let queue = Arc::new(Queue::default());
    (PushSender(queue.clone()), PushReceiver(queue))
}

impl PushSender {
    /// Queues `msg`; gives it back when the connection closed its queue.
    pub fn send(&self, msg: Bytes) -> Result<(), Bytes> {
        if self.is_closed() {
            return Err(msg);
        }
        // A frame shared by many queues (one Pub/Sub message) is one allocation, which
        // the allocator counts once: only a frame made for this queue alone (an
        // invalidation, a MONITOR line) is taken out as in flight.
        // The queue's own room, grown by a burst, is in flight with the burst: counted,
        // ten clients' invalidations after an eviction would be tens of KiB that the next
        // command evicts keys for. Added under the queue's lock, before the receiver can
        // take the message (and land what was added).
        let mut messages = self.0.messages.lock();
        let room_before = messages.capacity();
        messages.push_back(msg);
        let msg = &messages[messages.len() - 1];
        if !self.0.stalled.load(Ordering::Acquire) {
            let grown = burst_room(messages.capacity()) - burst_room(room_before);
            let frame = if msg.is_unique() { footprint(msg) } else { 0 };
            let bytes = (frame + grown) as u64;
            self.0.in_flight.fetch_add(bytes, Ordering::AcqRel);
            IN_FLIGHT.fetch_add(bytes, Ordering::Relaxed);
        }
        drop(messages);
        self.0.ready.notify_one();
        Ok(())
    }

    /// True once the connection stopped receiving.
    pub fn is_closed(&self) -> bool {
        self.0.closed.load(Ordering::Acquire)
    }
}

impl PushReceiver {
    /// The next message; `None` once closed and drained. Cancel-safe: a message is taken
    /// only when it is returned.
    pub async fn recv(&mut self) -> Option<Bytes> {
        let queue = &*self.0;
        loop {
            // Registered before looking, so a message sent in between still wakes us.
            let ready = queue.ready.notified();
            tokio::pin!(ready);
            ready.as_mut().enable();
            if let Some(msg) = queue.pop() {
                return Some(msg);
            }
            if queue.closed.load(Ordering::Acquire) {
                return None;
            }
            ready.await;
        }
    }

    /// The next message if one is queued.
    pub fn try_recv(&mut self) -> Option<Bytes> {
        self.0.pop()
    }

    /// Stops receiving: later sends fail (senders see the client gone); what is queued
    /// can still be drained.
    pub fn close(&mut self) {
        self.0.closed.store(true, Ordering::Release);
    }

    /// `bytes` taken from the queue were written to the socket: they are no longer in
    /// flight (their memory is free again).
    pub fn written(&self, bytes: u64) {
        self.0.land(bytes);
    }

    /// The connection's socket is full (true) or takes writes again (false): while it is
    /// full, what waits in the queue counts as the client's memory (see
    /// [`in_flight_bytes`]).
    pub fn set_stalled(&self, stalled: bool) {
        self.0.stalled.store(stalled, Ordering::Release);
        if stalled {
            self.0.land(u64::MAX);
        }
    }
}

impl Drop for PushReceiver {
    /// A connection that ends without closing (its task aborted) still tells senders, and
    /// lets go of what was queued for it.
    fn drop(&mut self) {
        self.close();
        self.0.messages.lock().clear();
        self.0.land(u64::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_arrive_in_order_and_close_refuses_more() {
        let (tx, mut rx) = push_queue();
        assert!(rx.try_recv().is_none());
        tx.send(Bytes::from_static(b"a")).expect("open");
        tx.clone().send(Bytes::from_static(b"b")).expect("open");
        assert_eq!(rx.recv().await.as_deref(), Some(&b"a"[..]));
        assert_eq!(rx.try_recv().as_deref(), Some(&b"b"[..]));
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(
            tx.send(Bytes::from_static(b"c")),
            Err(Bytes::from_static(b"c"))
        );
        assert_eq!(rx.recv().await, None);
        let (tx, rx) = push_queue();
        tx.send(Bytes::from_static(b"queued")).expect("open");
        drop(rx);
        assert!(tx.is_closed(), "a dropped receiver reads as closed");
        assert!(tx.0.messages.lock().is_empty(), "and frees what was queued");
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_by_a_send() {
        let (tx, mut rx) = push_queue();
        let waiter = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        tx.send(Bytes::from_static(b"x")).expect("open");
        assert_eq!(waiter.await.expect("joined").as_deref(), Some(&b"x"[..]));
    }

    #[test]
    fn an_idle_queue_holds_no_buffer_and_a_drained_burst_gives_its_room_back() {
        let (tx, mut rx) = push_queue();
        assert_eq!(tx.0.messages.lock().capacity(), 0);
        for _ in 0..1000 {
            tx.send(Bytes::from_static(b"m")).expect("open");
        }
        assert!(
            rx.0.in_flight.load(Ordering::Relaxed) >= burst_room(1000) as u64,
            "the burst's room is in flight with it"
        );
        while let Some(msg) = rx.try_recv() {
            rx.written(footprint(&msg) as u64);
        }
        assert!(tx.0.messages.lock().capacity() <= KEEP_CAPACITY);
        assert_eq!(
            rx.0.in_flight.load(Ordering::Relaxed),
            0,
            "and lands with it"
        );
    }

    #[test]
    fn messages_are_in_flight_until_written_unless_the_socket_is_full() {
        let (tx, rx) = push_queue();
        let frame = Bytes::from(vec![b'x'; 100]);
        let size = footprint(&frame) as u64;
        assert!(size >= 100, "a frame counts its size class");
        tx.send(frame).expect("open");
        assert_eq!(rx.0.in_flight.load(Ordering::Relaxed), size);
        let msg = rx.0.pop().expect("queued");
        // Taken but not written yet: still on its way out.
        assert_eq!(rx.0.in_flight.load(Ordering::Relaxed), size);
        rx.written(footprint(&msg) as u64);
        assert_eq!(rx.0.in_flight.load(Ordering::Relaxed), 0);
        // A full socket: what waits counts as the client's memory.
        tx.send(Bytes::from(vec![b'y'; 50])).expect("open");
        rx.set_stalled(true);
        assert_eq!(rx.0.in_flight.load(Ordering::Relaxed), 0);
        tx.send(Bytes::from(vec![b'z'; 50])).expect("open");
        assert_eq!(rx.0.in_flight.load(Ordering::Relaxed), 0);
        rx.set_stalled(false);
        let frame = Bytes::from(vec![b'w'; 10]);
        let size = footprint(&frame) as u64;
        tx.send(frame).expect("open");
        assert_eq!(rx.0.in_flight.load(Ordering::Relaxed), size);
        drop(rx);
        assert!(tx.is_closed());
    }
}
