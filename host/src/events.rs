//! The event bus: host and plugins publish, subscribed plugins receive.
//!
//! Each subscriber has its own bounded queue and delivery task, so events reach a
//! subscriber in publish order, a slow or failing subscriber never delays the others,
//! and publishing never blocks (a full queue drops the event and says so in the log).

use std::sync::Arc;

use arc_swap::ArcSwap;
use hatchery_sdk::Event;
use tokio::sync::mpsc;

/// Events waiting per subscriber before new ones are dropped.
pub const QUEUE_CAPACITY: usize = 1024;

#[derive(Default)]
pub struct EventBus {
    subscribers: ArcSwap<Vec<Subscriber>>,
    /// In a short-lived process (the CLI), events are kept here for the running
    /// panel (see `db::event_outbox`) instead of reaching this process's plugins.
    relayed: Option<std::sync::Mutex<Vec<Event>>>,
}

/// Events one CLI run may hand to the panel.
const MAX_RELAYED: usize = 10_000;

#[derive(Clone)]
pub struct Subscriber {
    pub plugin_id: String,
    patterns: Vec<String>,
    queue: mpsc::Sender<Event>,
}

/// Hands each queued event to `deliver`; owned by the subscriber's delivery task.
pub struct Delivery {
    queue: mpsc::Receiver<Event>,
}

impl Delivery {
    /// Delivers events until the subscriber is removed from the bus.
    pub async fn run<F, Fut>(mut self, mut deliver: F)
    where
        F: FnMut(Event) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        while let Some(event) = self.queue.recv().await {
            deliver(event).await;
        }
    }
}

impl EventBus {
    /// A bus for a short-lived process: events are collected for the running panel,
    /// whose plugins are the ones that should hear them.
    pub fn relay() -> EventBus {
        EventBus {
            relayed: Some(std::sync::Mutex::default()),
            ..EventBus::default()
        }
    }

    pub fn is_relay(&self) -> bool {
        self.relayed.is_some()
    }

    /// The events collected by a relay bus, for `db::event_outbox::append`.
    pub fn take_relayed(&self) -> Vec<Event> {
        self.relayed
            .as_ref()
            .map(|relayed| std::mem::take(&mut *relayed.lock().expect("relay lock")))
            .unwrap_or_default()
    }

    /// A subscriber for `patterns` and the delivery end its task runs.
    pub fn subscriber(&self, plugin_id: &str, patterns: Vec<String>) -> (Subscriber, Delivery) {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        (
            Subscriber {
                plugin_id: plugin_id.to_string(),
                patterns,
                queue,
            },
            Delivery { queue: receiver },
        )
    }

    /// Replaces the set of subscribers; removed ones finish and stop.
    pub fn set_subscribers(&self, subscribers: Vec<Subscriber>) {
        self.subscribers.store(Arc::new(subscribers));
    }

    /// Queues `event` for every matching subscriber except its source.
    pub fn publish(&self, event: Event) {
        tracing::debug!(event = %event.name, source = %event.source, "event published");
        if let Some(relayed) = &self.relayed {
            let mut relayed = relayed.lock().expect("relay lock");
            if relayed.len() < MAX_RELAYED {
                relayed.push(event);
            }
            return;
        }
        for subscriber in self.subscribers.load().iter() {
            if subscriber.plugin_id == event.source || !subscriber.wants(&event.name) {
                continue;
            }
            if subscriber.queue.try_send(event.clone()).is_err() {
                tracing::warn!(
                    plugin = %subscriber.plugin_id,
                    event = %event.name,
                    "event dropped: the plugin's queue is full or it is shutting down"
                );
            }
        }
    }
}

impl Subscriber {
    fn wants(&self, name: &str) -> bool {
        self.patterns
            .iter()
            .any(|pattern| match pattern.strip_suffix(".*") {
                Some(prefix) => name
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.')),
                None => pattern == name,
            })
    }
}

/// An event published by the host itself.
pub fn host_event(name: &str, payload: serde_json::Value) -> Event {
    Event {
        name: name.to_string(),
        payload: payload.to_string(),
        source: "host".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn events_reach_matching_subscribers_in_order() {
        let bus = EventBus::default();
        let (exact, exact_delivery) = bus.subscriber("a", vec!["b.greeted".into()]);
        let (wildcard, wildcard_delivery) = bus.subscriber("c", vec!["b.*".into()]);
        bus.set_subscribers(vec![exact, wildcard]);
        for index in 0..3 {
            bus.publish(Event {
                name: "b.greeted".into(),
                payload: index.to_string(),
                source: "b".into(),
            });
        }
        bus.publish(Event {
            name: "bb.other".into(),
            payload: "x".into(),
            source: "bb".into(),
        });
        let collect = |delivery: Delivery| async move {
            let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
            let sink = seen.clone();
            let task = tokio::spawn(delivery.run(move |event| {
                sink.lock().unwrap().push(event.payload);
                async {}
            }));
            (seen, task)
        };
        let (exact_seen, _t1) = collect(exact_delivery).await;
        let (wildcard_seen, _t2) = collect(wildcard_delivery).await;
        for _ in 0..200 {
            if exact_seen.lock().unwrap().len() == 3 && wildcard_seen.lock().unwrap().len() == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(*exact_seen.lock().unwrap(), ["0", "1", "2"]);
        assert_eq!(*wildcard_seen.lock().unwrap(), ["0", "1", "2"]);
    }

    #[tokio::test]
    async fn a_stuck_subscriber_does_not_block_publishers_or_others() {
        let bus = EventBus::default();
        let (stuck, _stuck_delivery) = bus.subscriber("stuck", vec!["x.*".into()]);
        let (live, live_delivery) = bus.subscriber("live", vec!["x.*".into()]);
        bus.set_subscribers(vec![stuck, live]);
        let count = Arc::new(AtomicUsize::new(0));
        let counter = count.clone();
        tokio::spawn(live_delivery.run(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
            async {}
        }));
        // More than the stuck queue holds: publishing must still return at once.
        for _ in 0..QUEUE_CAPACITY + 10 {
            bus.publish(host_event("x.tick", serde_json::json!({})));
            tokio::task::yield_now().await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(count.load(Ordering::SeqCst), QUEUE_CAPACITY + 10);
    }
}
