//! A client's push queue: what the engine sends a connection outside its replies (Pub/Sub
//! messages, MONITOR lines, tracking invalidations), drained by the connection's task.
//!
//! Every connection has one from its first byte, and most never receive anything, so an
//! idle queue must cost next to nothing: a tokio unbounded channel allocates its first
//! block of 32 slots (over a kilobyte) when it is created; this queue is a `VecDeque` that
//! allocates on the first message and gives a burst's room back once drained.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// Room kept after a burst is drained: larger buffers are released.
const KEEP_CAPACITY: usize = 16;

#[derive(Debug, Default)]
struct Queue {
    messages: Mutex<VecDeque<Bytes>>,
    ready: Notify,
    closed: AtomicBool,
}

impl Queue {
    /// Takes the oldest message, releasing a drained burst's room.
    fn pop(&self) -> Option<Bytes> {
        let mut messages = self.messages.lock();
        let msg = messages.pop_front()?;
        if messages.is_empty() && messages.capacity() > KEEP_CAPACITY {
            *messages = VecDeque::new();
        }
        Some(msg)
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
        self.0.messages.lock().push_back(msg);
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
}

impl Drop for PushReceiver {
    /// A connection that ends without closing (its task aborted) still tells senders, and
    /// lets go of what was queued for it.
    fn drop(&mut self) {
        self.close();
        self.0.messages.lock().clear();
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
        while rx.try_recv().is_some() {}
        assert!(tx.0.messages.lock().capacity() <= KEEP_CAPACITY);
    }
}
