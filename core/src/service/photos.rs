//! Photos taken through the app: sent to the server as soon as they are taken (never kept in the
//! tablet's gallery), stamped there, and named by the safety check or note they belong to.

use sha2::{Digest, Sha256};

use super::{Actor, Service, access};
use crate::case::{Case, PHOTO_MAX_BYTES, Photo, image_type};
use crate::error::{Counted, Why};
use crate::error::{Error, Result};
use crate::ids::{CaseId, PhotoId, RecordId};
use crate::person::Attachment;
use crate::staff::Action;
use crate::store::{Reader, Versioned, WriteTx};

/// The unique-key namespace of a case's photos: `{case}:{sha256}` → photo id.
const PHOTO_KEY: &str = "photo";

fn photo_key(case: CaseId, sha256: &str) -> String {
    format!("{case}:{sha256}")
}

/// The same namespace for the bytes a client sent, `{case}:sent:{sha256}` → photo id: a retry
/// finds its photo without decoding again (and whatever the encoder of the day would make).
fn sent_key(case: CaseId, sha256: &str) -> String {
    format!("{case}:sent:{sha256}")
}

/// Most photos one case may hold (at 2048 pixels, about 0.5 MB each: 1 GB).
pub const PHOTOS_PER_CASE: usize = 1000;
/// Most photos one person may send in a day (a long day of visits is a few dozen).
pub const PHOTOS_PER_DAY: usize = 300;

/// The link from a sender's day to the photos they sent that day (`sender_day`).
const PHOTO_DAY: &str = "photo_day";

/// A sender and a day (Japan's) as one link key: the staff id above 24 bits of days since 1970.
fn sender_day(actor: &Actor, now: crate::time::Timestamp) -> u64 {
    let days = u64::try_from(now.jst_date().days()).unwrap_or(0) & 0xFF_FFFF;
    (actor.staff.0 << 24) | days
}

/// Refuses a photo over the case's or the sender's quota; returns the sender's day key.
fn quotas(r: &impl Reader, actor: &Actor, case: CaseId, now: crate::time::Timestamp) -> Result<u64> {
    if r.links("case_photo", case.0, PHOTOS_PER_CASE)?.len() >= PHOTOS_PER_CASE {
        return Err(Error::invalid("photo", Why::AtMost(PHOTOS_PER_CASE, Counted::CasePhotos)));
    }
    let day = sender_day(actor, now);
    if r.links(PHOTO_DAY, day, PHOTOS_PER_DAY)?.len() >= PHOTOS_PER_DAY {
        return Err(Error::invalid("photo", Why::AtMost(PHOTOS_PER_DAY, Counted::PhotosToday)));
    }
    Ok(day)
}

/// Most photos one safety check or note may carry.
pub const MAX_ATTACHMENTS: usize = 20;

/// Replaces what a client said about each attachment by what the server stamped when the photo
/// arrived (type, size, time); each must have been sent for this case. Duplicates are dropped.
pub(super) fn stamp_attachments(tx: &WriteTx, case: CaseId, attachments: &mut Vec<Attachment>) -> Result<()> {
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(Error::invalid("attachments", Why::AtMost(MAX_ATTACHMENTS, Counted::Photos)));
    }
    let mut seen = std::collections::HashSet::new();
    attachments.retain(|a| seen.insert(a.sha256.clone()));
    for a in attachments.iter_mut() {
        let id = tx
            .unique(PHOTO_KEY, &photo_key(case, &a.sha256))?
            .ok_or_else(|| Error::invalid("attachments", Why::NotSentForCase))?;
        let photo = tx.require::<Photo>(PhotoId(id))?.body;
        *a = Attachment {
            sha256: photo.sha256,
            mime: photo.mime,
            size: photo.size,
            taken_at: Some(photo.taken_at),
            caption: std::mem::take(&mut a.caption),
        };
    }
    Ok(())
}

impl Service {
    /// Stores a photo for a case, stamped with the server's time, the sender and the case's child.
    /// What is stored is the picture only, encoded again (`crate::photo::normalise`: no
    /// metadata, pixel limits); a case holds at most `PHOTOS_PER_CASE`, and one person sends at
    /// most `PHOTOS_PER_DAY` a day (Japan's day), so that no client fills the disk. The same
    /// bytes sent again for the same case (a retry) give back the same photo, and count once;
    /// so does another upload that makes the same picture.
    pub fn add_photo(&self, actor: &Actor, case: CaseId, bytes: &[u8]) -> Result<Versioned<Photo>> {
        image_type(bytes).ok_or_else(|| Error::invalid("photo", Why::NotAnImage))?;
        if bytes.len() > PHOTO_MAX_BYTES {
            return Err(Error::invalid("photo", Why::LargerThan(PHOTO_MAX_BYTES >> 20)));
        }
        // A retry is known by the bytes sent (`sent_key`): no decoding, no quota. Else what
        // refuses cheaply is checked before the decoding (a tenth of a second of CPU and up to
        // 160 MB): the sender's role and scope, and the quotas; the write checks again.
        let sent = sent_key(case, &crate::to_hex(&Sha256::digest(bytes)));
        Self::permit(actor, Action::AddNote)?;
        let retry = {
            let r = self.store.read()?;
            let c = r.require::<Case>(case)?;
            access::check_write_case(actor, &c.body, Action::AddNote)?;
            let retry = r.unique(PHOTO_KEY, &sent)?.is_some();
            if !retry {
                quotas(&r, actor, case, self.now())?;
            }
            retry
        };
        // Decoded outside the write transaction: other writers do not wait on it.
        let kept = if retry { Vec::new() } else { crate::photo::normalise(bytes)? };
        let bytes = kept.as_slice();
        let mime = "image/jpeg";
        let sha256 = crate::to_hex(&Sha256::digest(bytes));
        self.write(actor, Action::AddNote, PhotoId::KIND, None, |tx| {
            let c = tx.require::<Case>(case)?;
            access::check_write_case(actor, &c.body, Action::AddNote)?;
            let key = photo_key(case, &sha256);
            for known in [&sent, &key] {
                if let Some(id) = tx.unique(PHOTO_KEY, known)? {
                    let done = tx.require::<Photo>(PhotoId(id))?;
                    return Ok((done, id));
                }
            }
            if retry {
                return Err(Error::Corrupt("a photo's upload key without its photo".into()));
            }
            let day = quotas(tx, actor, case, tx.now)?;
            tx.put_file(&sha256, bytes)?;
            let v = tx.insert(Photo {
                case,
                child: c.body.child,
                sha256: sha256.clone(),
                mime: mime.to_owned(),
                size: bytes.len() as u64,
                taken_at: tx.now,
                by: actor.staff,
            })?;
            tx.claim(PHOTO_KEY, &key, v.id)?;
            tx.claim(PHOTO_KEY, &sent, v.id)?;
            tx.link("case_photo", case.0, v.id)?;
            tx.link(PHOTO_DAY, day, v.id)?;
            Ok((v.clone(), v.id))
        })
    }

    /// A case's photo and its bytes, for someone who may read the case (audited as a read).
    pub fn photo(&self, actor: &Actor, case: CaseId, sha256: &str) -> Result<(Versioned<Photo>, Vec<u8>)> {
        self.read(actor, Action::ReadCase, CaseId::KIND, Some(case.0), |r| {
            let c = r.require::<Case>(case)?;
            access::Scope::of(r, actor)?.check_read_case(&c.body, Action::ReadCase)?;
            let id = r
                .unique(PHOTO_KEY, &photo_key(case, sha256))?
                .ok_or_else(|| Error::not_found("photo", sha256))?;
            let photo = r.require::<Photo>(PhotoId(id))?;
            let bytes = r.file(sha256)?.ok_or_else(|| Error::not_found("photo file", sha256))?;
            Ok(((photo, bytes), Some(format!("photo {id}"))))
        })
    }
}
