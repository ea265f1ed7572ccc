//! The connector chain: ureq's default chain (CONNECT proxy, TCP with `TCP_NODELAY`, rustls)
//! with one layer added between TCP and TLS that holds outgoing bytes until the client waits
//! for input. ureq writes a request's head and its body with separate `write` calls (and
//! rustls seals each as its own record); this layer sends them in one `write`, as Go's
//! `net/http` (one `bufio.Writer` flush per request) does, so a `POST` is one segment and a
//! server's delayed ACK cannot stall its second half.

use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, NextTimeout, RustlsConnector,
    TcpConnector, Transport,
};
use ureq::Error;

/// The chain every [`crate::UreqTransport`] agent uses.
pub(crate) fn connector() -> impl Connector<(), Out = impl Transport> {
    ().chain(ConnectProxyConnector::default())
        .chain(TcpConnector::default())
        .chain(OneWriteConnector)
        .chain(RustlsConnector::default())
}

/// Wraps the transport below it in a [`OneWrite`].
#[derive(Debug)]
struct OneWriteConnector;

impl<In: Transport> Connector<In> for OneWriteConnector {
    type Out = OneWrite<In>;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, Error> {
        Ok(chained.map(|inner| OneWrite {
            inner,
            pending: Vec::new(),
        }))
    }
}

/// A transport that queues output and writes it all when input is awaited.
#[derive(Debug)]
pub(crate) struct OneWrite<T> {
    inner: T,
    pending: Vec<u8>,
}

impl<T: Transport> OneWrite<T> {
    fn flush(&mut self, timeout: NextTimeout) -> Result<(), Error> {
        while !self.pending.is_empty() {
            let out = self.inner.buffers().output();
            let n = out.len().min(self.pending.len());
            out[..n].copy_from_slice(&self.pending[..n]);
            self.inner.transmit_output(n, timeout)?;
            self.pending.drain(..n);
        }
        Ok(())
    }
}

impl<T: Transport> Transport for OneWrite<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, _: NextTimeout) -> Result<(), Error> {
        let out = self.inner.buffers().output();
        self.pending.extend_from_slice(&out[..amount]);
        Ok(())
    }

    fn maybe_await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.flush(timeout)?;
        self.inner.maybe_await_input(timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.flush(timeout)?;
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::unversioned::transport::LazyBuffers;

    /// A transport that records each `transmit_output` as one write.
    #[derive(Debug)]
    struct Recorder {
        buffers: LazyBuffers,
        writes: Vec<Vec<u8>>,
        awaited: usize,
    }

    impl Transport for Recorder {
        fn buffers(&mut self) -> &mut dyn Buffers {
            &mut self.buffers
        }
        fn transmit_output(&mut self, amount: usize, _: NextTimeout) -> Result<(), Error> {
            let out = self.buffers.output()[..amount].to_vec();
            self.writes.push(out);
            Ok(())
        }
        fn await_input(&mut self, _: NextTimeout) -> Result<bool, Error> {
            self.awaited += 1;
            Ok(true)
        }
        fn is_open(&mut self) -> bool {
            true
        }
    }

    fn timeout() -> NextTimeout {
        NextTimeout {
            after: std::time::Duration::from_secs(5).into(),
            reason: ureq::Timeout::Global,
            per_read: None,
            per_write: None,
        }
    }

    fn send(t: &mut OneWrite<Recorder>, bytes: &[u8]) {
        t.buffers().output()[..bytes.len()].copy_from_slice(bytes);
        t.transmit_output(bytes.len(), timeout()).unwrap();
    }

    #[test]
    fn head_and_body_leave_in_one_write() {
        let mut t = OneWrite {
            inner: Recorder {
                buffers: LazyBuffers::new(64, 20),
                writes: Vec::new(),
                awaited: 0,
            },
            pending: Vec::new(),
        };
        send(&mut t, b"POST / HTTP/1.1\r\n\r\n");
        send(&mut t, b"a=1");
        assert!(
            t.inner.writes.is_empty(),
            "nothing is written before input is awaited"
        );
        t.await_input(timeout()).unwrap();
        // 22 bytes through a 20-byte output buffer: as few writes as the buffer allows.
        assert_eq!(t.inner.writes.concat(), b"POST / HTTP/1.1\r\n\r\na=1");
        assert_eq!(t.inner.writes.len(), 2);
        assert_eq!(t.inner.awaited, 1);

        let mut t = OneWrite {
            inner: Recorder {
                buffers: LazyBuffers::new(64, 1024),
                writes: Vec::new(),
                awaited: 0,
            },
            pending: Vec::new(),
        };
        send(&mut t, b"GET / HTTP/1.1\r\n");
        send(&mut t, b"\r\n");
        t.maybe_await_input(timeout()).unwrap();
        assert_eq!(t.inner.writes, [b"GET / HTTP/1.1\r\n\r\n".to_vec()]);
        // Nothing pending: awaiting again writes nothing.
        t.await_input(timeout()).unwrap();
        assert_eq!(t.inner.writes.len(), 1);
    }
}
