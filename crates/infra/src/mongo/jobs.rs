use std::time::Duration;

use std::path::PathBuf;

use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use chrono::{DateTime, Utc};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use videotube_domain::media::{MediaType, UploadedFile};
use videotube_domain::ports::MediaJobRepository;
use videotube_domain::video::{JobLease, JobQueueStats, MediaJob};
use videotube_domain::{Id, RepoError};

use super::{
    find_all, id, insert_unique, oid, to_bson_time, DbError, Store, Within, MEDIA_JOBS,
    MEDIA_JOB_CLAIMS,
};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpooledDoc {
    path: String,
    mime: String,
    size: i64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobDoc {
    #[serde(rename = "_id")]
    id: ObjectId,
    video_id: ObjectId,
    /// Absent on jobs queued by versions that named files after the job id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    video: SpooledDoc,
    /// Absent when none was uploaded: the worker makes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thumbnail: Option<SpooledDoc>,
    attempts: i32,
    /// How many times the job was claimed; with the job id it names each claim uniquely.
    claims: i32,
    not_before: bson::DateTime,
    lease_until: bson::DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    created_at: bson::DateTime,
    /// The spool directory holding the job's files (see `MongoMediaJobRepository::new`);
    /// absent on jobs queued by earlier versions until `adopt_unassigned_jobs`.
    #[serde(default)]
    spool: String,
}

fn spooled_doc(file: &UploadedFile) -> SpooledDoc {
    SpooledDoc {
        path: file.path.display().to_string(),
        mime: file.media_type.mime().to_owned(),
        size: file.size as i64,
    }
}

fn uploaded_file(doc: SpooledDoc) -> Result<UploadedFile, RepoError> {
    let media_type = MediaType::from_mime(&doc.mime).ok_or_else(|| {
        RepoError::Other(format!("unknown media type `{}` in a job", doc.mime).into())
    })?;
    Ok(UploadedFile {
        path: PathBuf::from(doc.path),
        media_type,
        size: doc.size.max(0) as u64,
    })
}

/// One claim of a job (`_id`: `<job id>:<fence>`, unique, so exactly one worker wins each
/// fence) and how long it holds the job. The job document's `claims` and `leaseUntil` only
/// repeat the latest claim as a hint for finding due jobs; the claims decide.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimDoc {
    #[serde(rename = "_id")]
    id: String,
    job_id: ObjectId,
    lease_until: bson::DateTime,
    claimed_at: bson::DateTime,
}

fn claim_id(job: ObjectId, fence: u64) -> String {
    format!("{}:{fence}", job.to_hex())
}

pub struct MongoMediaJobRepository {
    limit: Duration,
    jobs: Collection<JobDoc>,
    claims: Collection<ClaimDoc>,
    spool: String,
}

impl MongoMediaJobRepository {
    /// `spool` names the directory this instance spools uploads to (the same name for every
    /// instance sharing it): jobs are stamped with it and only claimed by instances that have
    /// it, so no worker takes a job whose files it cannot read.
    pub fn new(store: &Store, spool: &str) -> Self {
        Self {
            limit: store.limit,
            jobs: store.collection(MEDIA_JOBS),
            claims: store.collection(MEDIA_JOB_CLAIMS),
            spool: spool.to_owned(),
        }
    }

    /// The jobs of this instance's spool that are due and no lease holds (as far as the job's
    /// own record says; the claims decide).
    fn due(&self, now: bson::DateTime) -> bson::Document {
        doc! { "spool": &self.spool, "notBefore": { "$lte": now }, "leaseUntil": { "$lte": now } }
    }

    async fn claim(&self, job: ObjectId, fence: u64) -> Result<Option<ClaimDoc>, RepoError> {
        self.claims
            .find_one(doc! { "_id": claim_id(job, fence) })
            .max_time(self.limit)
            .within(self.limit)
            .await
    }

    /// The job's latest claim, found from the job's hint (one read more than the hint says when
    /// the hint is current): `(fence, lease end)`, or `(0, None)` for a job never claimed.
    async fn latest_claim(&self, job: &JobDoc) -> Result<(u64, Option<bson::DateTime>), RepoError> {
        let mut fence = job.claims.max(0) as u64;
        let mut lease_until = match fence {
            0 => None,
            n => self.claim(job.id, n).await?.map(|c| c.lease_until),
        };
        while let Some(next) = self.claim(job.id, fence + 1).await? {
            fence += 1;
            lease_until = Some(next.lease_until);
        }
        Ok((fence, lease_until))
    }

    /// Whether a claim later than the lease's exists (then the lease was taken over).
    async fn taken_over(&self, lease: &JobLease) -> Result<bool, RepoError> {
        Ok(self
            .claim(oid(lease.job.id), lease.fence + 1)
            .await?
            .is_some())
    }

    /// Repeats a claim's lease on the job document, where `claim_next` looks for due jobs. Only
    /// a hint: when this write is lost the claims still say who holds the job.
    async fn hint(&self, job: ObjectId, fence: u64, lease_until: bson::DateTime) {
        let written = self
            .jobs
            .update_one(
                doc! { "_id": job },
                doc! { "$set": { "claims": fence as i64, "leaseUntil": lease_until } },
            )
            .await;
        if let Err(err) = written {
            tracing::warn!(job = %job, error = ?err, "could not note a job's lease on the job; its claims still hold it");
        }
    }
}

/// Candidates looked at per claim; losing all of them to other workers just means trying later.
const CANDIDATES: i64 = 8;

fn lease_end(now: DateTime<Utc>, lease: Duration) -> bson::DateTime {
    to_bson_time(now + chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::MAX))
}

#[async_trait]
impl MediaJobRepository for MongoMediaJobRepository {
    fn next_id(&self) -> Id {
        id(ObjectId::new())
    }

    #[tracing::instrument(name = "media_jobs.insert", skip_all)]
    async fn insert(&self, job: &MediaJob) -> Result<(), RepoError> {
        let created_at = to_bson_time(job.created_at);
        let doc = JobDoc {
            id: oid(job.id),
            video_id: oid(job.video_id),
            name: Some(job.name.clone()),
            video: spooled_doc(&job.video),
            thumbnail: job.thumbnail.as_ref().map(spooled_doc),
            attempts: job.attempts as i32,
            claims: 0,
            not_before: created_at,
            lease_until: created_at,
            last_error: None,
            created_at,
            spool: self.spool.clone(),
        };
        self.jobs.insert_one(doc).within(self.limit).await.map(drop)
    }

    /// The count comes from the collection's metadata (no scan), all spools together; the first
    /// due job is this instance's claim query's first candidate, served by the same index.
    #[tracing::instrument(name = "media_jobs.queue_stats", skip_all)]
    async fn queue_stats(&self, now: DateTime<Utc>) -> Result<JobQueueStats, RepoError> {
        let now_bson = to_bson_time(now);
        let queued = self
            .jobs
            .estimated_document_count()
            .within(self.limit)
            .await?;
        let first = self
            .jobs
            .find_one(self.due(now_bson))
            .sort(doc! { "notBefore": 1, "_id": 1 })
            .max_time(self.limit)
            .within(self.limit)
            .await?;
        Ok(JobQueueStats {
            queued,
            oldest_due: first.map(|job| {
                (now - job.created_at.to_chrono())
                    .to_std()
                    .unwrap_or_default()
            }),
        })
    }

    /// A findOneAndUpdate would pick the job in one step on MongoDB, but FerretDB reads and then
    /// writes, so two workers could both take it. Instead a claim is one insert of a document
    /// keyed by the job and the next fence: the unique `_id` lets exactly one worker win it, and
    /// there is no second write whose loss could leave the job unclaimable.
    #[tracing::instrument(name = "media_jobs.claim_next", skip_all)]
    async fn claim_next(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<JobLease>, RepoError> {
        let now_bson = to_bson_time(now);
        let due: Vec<JobDoc> = find_all(
            self.jobs
                .find(self.due(now_bson))
                .sort(doc! { "notBefore": 1, "_id": 1 })
                .limit(CANDIDATES),
            self.limit,
        )
        .await?;
        for job in due {
            let (fence, held_until) = self.latest_claim(&job).await?;
            if held_until.is_some_and(|until| until > now_bson) {
                continue;
            }
            let fence = fence + 1;
            let lease_until = lease_end(now, lease);
            let claim = ClaimDoc {
                id: claim_id(job.id, fence),
                job_id: job.id,
                lease_until,
                claimed_at: now_bson,
            };
            if !insert_unique(self.limit, &self.claims, claim).await? {
                continue;
            }
            self.hint(job.id, fence, lease_until).await;
            return Ok(Some(JobLease {
                job: MediaJob {
                    id: id(job.id),
                    video_id: id(job.video_id),
                    name: job.name.unwrap_or_else(|| job.id.to_hex()),
                    video: uploaded_file(job.video)?,
                    thumbnail: job.thumbnail.map(uploaded_file).transpose()?,
                    attempts: job.attempts.max(0) as u32,
                    created_at: job.created_at.to_chrono(),
                },
                fence,
            }));
        }
        Ok(None)
    }

    /// Extends the claim, then checks that no later claim exists. A renewal racing a takeover at
    /// the very moment the lease ran out can let both workers run until this one's next renewal;
    /// the fence on the video refuses the older worker's result meanwhile.
    #[tracing::instrument(name = "media_jobs.renew", skip_all)]
    async fn renew(
        &self,
        lease: &JobLease,
        now: DateTime<Utc>,
        lease_for: Duration,
    ) -> Result<bool, RepoError> {
        let job = oid(lease.job.id);
        let lease_until = lease_end(now, lease_for);
        self.claims
            .update_one(
                doc! { "_id": claim_id(job, lease.fence) },
                doc! { "$set": { "leaseUntil": lease_until } },
            )
            .within(self.limit)
            .await?;
        if self.taken_over(lease).await? {
            return Ok(false);
        }
        self.hint(job, lease.fence, lease_until).await;
        Ok(true)
    }

    #[tracing::instrument(name = "media_jobs.retry_later", skip_all)]
    async fn retry_later(
        &self,
        lease: &JobLease,
        attempts: u32,
        error: &str,
        not_before: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        if self.taken_over(lease).await? {
            return Ok(false);
        }
        let job = oid(lease.job.id);
        let at = to_bson_time(not_before);
        self.jobs
            .update_one(
                doc! { "_id": job },
                doc! { "$set": {
                    "attempts": attempts as i32,
                    "lastError": error,
                    "notBefore": at,
                    "leaseUntil": at,
                } },
            )
            .within(self.limit)
            .await?;
        // Released last: if this write is lost the job waits for its lease to run out instead.
        self.claims
            .update_one(
                doc! { "_id": claim_id(job, lease.fence) },
                doc! { "$set": { "leaseUntil": at } },
            )
            .within(self.limit)
            .await
            .map(|_| true)
    }

    #[tracing::instrument(name = "media_jobs.finish", skip_all)]
    async fn finish(&self, lease: &JobLease) -> Result<bool, RepoError> {
        if self.taken_over(lease).await? {
            return Ok(false);
        }
        self.remove(lease.job.id).await.map(|()| true)
    }

    #[tracing::instrument(name = "media_jobs.remove", skip_all)]
    async fn remove(&self, job_id: Id) -> Result<(), RepoError> {
        self.jobs
            .delete_one(doc! { "_id": oid(job_id) })
            .within(self.limit)
            .await?;
        self.claims
            .delete_many(doc! { "jobId": oid(job_id) })
            .within(self.limit)
            .await
            .map(drop)
    }
}

/// Gives jobs queued by versions that did not name their spool to this instance's: they were
/// queued by a single instance, whose spool this is once it runs this version. (Run at start-up;
/// with several instances on separate spools, upgrade one first.)
pub async fn adopt_unassigned_jobs(db: &Database, spool: &str) -> Result<(), DbError> {
    db.collection::<bson::Document>(MEDIA_JOBS)
        .update_many(
            doc! { "spool": { "$exists": false } },
            doc! { "$set": { "spool": spool } },
        )
        .await
        .map(drop)
}
