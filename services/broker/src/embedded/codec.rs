//! How one record is stored: a format byte, then the zstd-compressed postcard encoding of its key,
//! headers and payload. Compressing the three together lets zstd share the CloudEvent headers'
//! repeated strings with the body (ids, sources, types appear in both).
use crate::Record;

/// zstd level 3 (its default): about 1 µs per KB on one core, which the group commit's fsync dwarfs.
const LEVEL: i32 = 3;
/// Leading byte of a stored record; another layout gets another value.
const FORMAT_ZSTD_POSTCARD: u8 = 1;

type Parts = (Option<Vec<u8>>, Vec<(String, Vec<u8>)>, Vec<u8>);

/// Encodes records for storage. It keeps one zstd context: making one per record (as the one-shot
/// helpers do) costs more than compressing a webhook.
pub(super) struct Encoder(zstd::bulk::Compressor<'static>);

impl Encoder {
    pub(super) fn new() -> Result<Self, String> {
        zstd::bulk::Compressor::new(LEVEL).map(Self).map_err(|e| e.to_string())
    }

    pub(super) fn encode(&mut self, r: &Record) -> Result<Vec<u8>, String> {
        let plain = postcard::to_allocvec(&(&r.key, &r.headers, &r.payload)).map_err(|e| e.to_string())?;
        let compressed = self.0.compress(&plain).map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(compressed.len() + 1);
        out.push(FORMAT_ZSTD_POSTCARD);
        out.extend_from_slice(&compressed);
        Ok(out)
    }
}

/// Decodes stored records, keeping one zstd context like [`Encoder`].
pub(super) struct Decoder(zstd::bulk::Decompressor<'static>);

/// Largest record a frame header may announce; a corrupt header must not allocate more.
const MAX_RECORD: u64 = 256 * 1024 * 1024;

impl Decoder {
    pub(super) fn new() -> Result<Self, String> {
        zstd::bulk::Decompressor::new().map(Self).map_err(|e| e.to_string())
    }

    pub(super) fn decode(&mut self, data: &[u8], timestamp_ms: i64) -> Result<Record, String> {
        let Some((&FORMAT_ZSTD_POSTCARD, compressed)) = data.split_first() else {
            return Err(format!("unknown record format byte {:?}", data.first()));
        };
        // The encoder's frames carry their content size: decompress into exactly that.
        let size = match zstd::zstd_safe::get_frame_content_size(compressed) {
            Ok(Some(n)) if n <= MAX_RECORD => n as usize,
            Ok(_) => return Err("record frame without a usable content size".into()),
            Err(e) => return Err(format!("not a zstd frame: {e:?}")),
        };
        let plain = self.0.decompress(compressed, size).map_err(|e| e.to_string())?;
        let (key, headers, payload): Parts = postcard::from_bytes(&plain).map_err(|e| e.to_string())?;
        Ok(Record { key, headers, payload, timestamp_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_unknown_formats() {
        let r = Record {
            key: Some(b"octocat/Hello-World".to_vec()),
            headers: vec![("ce_id".into(), b"abc".to_vec()), ("bin".into(), vec![0, 255])],
            payload: br#"{"ref":"refs/heads/main","ref2":"refs/heads/main"}"#.to_vec(),
            timestamp_ms: 42,
        };
        let (mut enc, mut dec) = (Encoder::new().unwrap(), Decoder::new().unwrap());
        let data = enc.encode(&r).unwrap();
        assert_eq!(dec.decode(&data, 42).unwrap(), r);
        let none = Record { key: None, ..r };
        assert_eq!(dec.decode(&enc.encode(&none).unwrap(), 42).unwrap(), none, "the contexts are reused");
        assert!(dec.decode(&[9, 1, 2], 0).unwrap_err().contains("format byte"));
        assert!(dec.decode(&[], 0).is_err());
        assert!(dec.decode(&[FORMAT_ZSTD_POSTCARD, 1, 2, 3], 0).is_err(), "not zstd");
        let mut truncated = data.clone();
        truncated.truncate(data.len() - 3);
        assert!(dec.decode(&truncated, 0).is_err(), "a cut record is an error, not a short one");
    }
}
