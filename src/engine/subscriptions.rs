//! The Pub/Sub registry: who listens to which channel or pattern, and delivery of messages.
//!
//! Each subscriber has a queue of encoded messages drained by its connection task. Its size
//! is tracked in the client's `omem`; a subscriber whose output (queue plus unwritten
//! replies) passes `client-output-buffer-limit pubsub` (hard at once, soft after its
//! seconds) is closed and gets nothing more, so a slow reader cannot make the server's
//! memory grow without bound. As in Redis, it still counts as a receiver of the message
//! that broke the limit.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::session::ClientInfo;
use crate::config::OutputLimit;
use crate::keyspace::types::HMap;
use crate::resp::{Proto, ReplyBuf};

/// Where a subscriber's messages go.
#[derive(Debug, Clone)]
pub struct Subscriber {
    /// Client id.
    pub id: u64,
    /// The client's protocol (messages are push frames in RESP3, arrays in RESP2).
    pub proto: Proto,
    /// The connection's message queue.
    pub tx: super::push::PushSender,
    /// Shared client info (for output accounting and kills).
    pub info: Arc<ClientInfo>,
}

/// Channel and pattern subscriptions.
#[derive(Debug, Default)]
pub struct Subscriptions {
    channels: HMap<Bytes, Vec<Subscriber>>,
    patterns: Vec<(Bytes, Subscriber)>,
    /// Shard channels (SSUBSCRIBE / SPUBLISH): a namespace of their own, with no patterns.
    shard: HMap<Bytes, Vec<Subscriber>>,
    /// `client-output-buffer-limit pubsub`.
    pub limit: OutputLimit,
}

impl Subscriptions {
    /// Subscribes `sub` to `channel`; false when it already was.
    pub fn subscribe(&mut self, channel: &Bytes, sub: &Subscriber) -> bool {
        add_subscriber(&mut self.channels, channel, sub)
    }

    /// Unsubscribes client `id` from `channel`; false when it was not subscribed.
    pub fn unsubscribe(&mut self, channel: &[u8], id: u64) -> bool {
        remove_subscriber(&mut self.channels, channel, id)
    }

    /// Subscribes `sub` to shard channel `channel`; false when it already was.
    pub fn ssubscribe(&mut self, channel: &Bytes, sub: &Subscriber) -> bool {
        add_subscriber(&mut self.shard, channel, sub)
    }

    /// Unsubscribes client `id` from shard channel `channel`.
    pub fn sunsubscribe(&mut self, channel: &[u8], id: u64) -> bool {
        remove_subscriber(&mut self.shard, channel, id)
    }

    /// Delivers `message` on shard channel `channel` (as `smessage`; patterns never see
    /// shard channels); returns how many clients received it. A publisher subscribed to
    /// it gets its copy in its reply buffer, as with PUBLISH.
    pub fn spublish_from(
        &mut self,
        channel: &[u8],
        message: &[u8],
        mut publisher: Option<(u64, &mut ReplyBuf)>,
    ) -> usize {
        match self.shard.get(channel) {
            Some(list) => fan_out(
                list,
                b"smessage",
                channel,
                message,
                &mut publisher,
                &self.limit,
            ),
            None => 0,
        }
    }

    /// Active shard channels matching `pattern` (all when `None`).
    pub fn shard_channels(&self, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.shard
            .keys()
            .filter(|c| pattern.is_none_or(|p| crate::glob::matches(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of shard channel `channel`.
    pub fn shard_numsub(&self, channel: &[u8]) -> usize {
        self.shard.get(channel).map_or(0, Vec::len)
    }

    /// Subscribes `sub` to `pattern`; false when it already was.
    pub fn psubscribe(&mut self, pattern: &Bytes, sub: &Subscriber) -> bool {
        if self
            .patterns
            .iter()
            .any(|(p, s)| s.id == sub.id && p == pattern)
        {
            return false;
        }
        self.patterns.push((pattern.clone(), sub.clone()));
        true
    }

    /// Unsubscribes client `id` from `pattern`.
    pub fn punsubscribe(&mut self, pattern: &[u8], id: u64) -> bool {
        let before = self.patterns.len();
        self.patterns
            .retain(|(p, s)| !(s.id == id && p.as_ref() == pattern));
        self.patterns.len() != before
    }

    /// Delivers `message` on `channel`; returns how many clients received it.
    pub fn publish(&mut self, channel: &[u8], message: &[u8]) -> usize {
        self.publish_from(channel, message, None)
    }

    /// Delivers `message` on `channel` on behalf of `publisher` (its client id and reply
    /// buffer): a publisher subscribed to the channel gets its copy in that buffer, before
    /// the PUBLISH reply, where Redis puts it, instead of through its queue (which would
    /// deliver it after). Returns how many clients received it.
    pub fn publish_from(
        &mut self,
        channel: &[u8],
        message: &[u8],
        mut publisher: Option<(u64, &mut ReplyBuf)>,
    ) -> usize {
        let mut receivers = match self.channels.get(channel) {
            Some(list) => fan_out(
                list,
                b"message",
                channel,
                message,
                &mut publisher,
                &self.limit,
            ),
            None => 0,
        };
        for (pattern, sub) in &self.patterns {
            if crate::glob::matches(pattern, channel, false) {
                let frame = encode(sub.proto, &[b"pmessage", pattern, channel, message]);
                match publisher.as_mut() {
                    Some((id, out)) if *id == sub.id => out.raw(&frame),
                    _ => deliver(sub, frame, &self.limit),
                }
                receivers += 1;
            }
        }
        receivers
    }

    /// Active channels matching `pattern` (all when `None`).
    pub fn channels(&self, pattern: Option<&[u8]>) -> Vec<Bytes> {
        self.channels
            .keys()
            .filter(|c| pattern.is_none_or(|p| crate::glob::matches(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscribers of `channel`.
    pub fn numsub(&self, channel: &[u8]) -> usize {
        self.channels.get(channel).map_or(0, Vec::len)
    }

    /// Number of distinct patterns subscribed to.
    pub fn numpat(&self) -> usize {
        let mut unique: Vec<&Bytes> = self.patterns.iter().map(|(p, _)| p).collect();
        unique.sort();
        unique.dedup();
        unique.len()
    }

    /// The channels, patterns and shard channels client `id` is subscribed to (a scan of
    /// every subscription: for rare operations such as ACL changes).
    pub fn subscribed_by(&self, id: u64) -> (Vec<Bytes>, Vec<Bytes>, Vec<Bytes>) {
        let of = |map: &HMap<Bytes, Vec<Subscriber>>| -> Vec<Bytes> {
            map.iter()
                .filter(|(_, list)| list.iter().any(|s| s.id == id))
                .map(|(c, _)| c.clone())
                .collect()
        };
        let patterns = self
            .patterns
            .iter()
            .filter(|(_, s)| s.id == id)
            .map(|(p, _)| p.clone())
            .collect();
        (of(&self.channels), patterns, of(&self.shard))
    }

    /// Removes every subscription of client `id` (on disconnect or RESET).
    pub fn remove_client(&mut self, id: u64) {
        self.channels.retain(|_, list| {
            list.retain(|s| s.id != id);
            !list.is_empty()
        });
        self.patterns.retain(|(_, s)| s.id != id);
        self.shard.retain(|_, list| {
            list.retain(|s| s.id != id);
            !list.is_empty()
        });
    }
}

/// Delivers `[word, channel, message]` to every subscriber of `list` (encoded once per
/// protocol); the publisher's own copy goes in its reply buffer. Returns the count.
fn fan_out(
    list: &[Subscriber],
    word: &[u8],
    channel: &[u8],
    message: &[u8],
    publisher: &mut Option<(u64, &mut ReplyBuf)>,
    limit: &OutputLimit,
) -> usize {
    let mut encoded: [Option<Bytes>; 2] = [None, None];
    for sub in list {
        let frame = encoded[proto_slot(sub.proto)]
            .get_or_insert_with(|| encode(sub.proto, &[word, channel, message]))
            .clone();
        match publisher.as_mut() {
            Some((id, out)) if *id == sub.id => out.raw(&frame),
            _ => deliver(sub, frame, limit),
        }
    }
    list.len()
}

/// Adds `sub` to `channel`'s list in `map`; false when it was there.
fn add_subscriber(
    map: &mut HMap<Bytes, Vec<Subscriber>>,
    channel: &Bytes,
    sub: &Subscriber,
) -> bool {
    let list = map.entry(channel.clone()).or_default();
    if list.iter().any(|s| s.id == sub.id) {
        return false;
    }
    list.push(sub.clone());
    true
}

/// Removes client `id` from `channel`'s list in `map` (and the list once empty).
fn remove_subscriber(map: &mut HMap<Bytes, Vec<Subscriber>>, channel: &[u8], id: u64) -> bool {
    let Some(list) = map.get_mut(channel) else {
        return false;
    };
    let before = list.len();
    list.retain(|s| s.id != id);
    let removed = list.len() != before;
    if list.is_empty() {
        map.remove(channel);
    }
    removed
}

fn proto_slot(p: Proto) -> usize {
    match p {
        Proto::Resp2 => 0,
        Proto::Resp3 => 1,
    }
}

/// Encodes a Pub/Sub frame: an array in RESP2, a push in RESP3.
pub fn encode(proto: Proto, parts: &[&[u8]]) -> Bytes {
    // A bulk's header and trailer take at most 24 bytes.
    let size = 16 + parts.iter().map(|p| p.len() + 24).sum::<usize>();
    let mut out = ReplyBuf::with_capacity(proto, size);
    out.push(parts.len());
    for p in parts {
        out.bulk(p);
    }
    Bytes::from(out.buf)
}

fn deliver(sub: &Subscriber, frame: Bytes, limit: &OutputLimit) {
    if sub.info.killed.load(Ordering::Acquire) {
        return;
    }
    sub.info.omem.fetch_add(frame.len(), Ordering::Relaxed);
    if sub.info.enforce_output_limit(limit) {
        sub.info.omem.fetch_sub(frame.len(), Ordering::Relaxed);
        return;
    }
    let _ = sub.tx.send(frame);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame's allocation is about its length: grown from a small buffer, a 5 KB message
    /// would sit in 8 KB for every subscriber queue that holds it.
    #[test]
    fn a_message_frame_occupies_about_its_length() {
        let payload = vec![b'p'; 5000];
        let frame = Vec::from(encode(Proto::Resp3, &[b"message", b"chan", &payload]));
        assert!(frame.ends_with(b"ppp\r\n"));
        assert!(
            frame.capacity() <= frame.len() + 128,
            "{} bytes in an allocation of {}",
            frame.len(),
            frame.capacity()
        );
    }
}
