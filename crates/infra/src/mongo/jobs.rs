use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use bson::doc;
use bson::oid::ObjectId;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};
use videotube_domain::media::{MediaType, UploadedFile};
use videotube_domain::ports::MediaJobRepository;
use videotube_domain::video::MediaJob;
use videotube_domain::{Id, RepoError};

use super::{id, insert_unique, oid, repo_error, to_bson_time, MEDIA_JOBS, MEDIA_JOB_CLAIMS};

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
    video: SpooledDoc,
    thumbnail: SpooledDoc,
    attempts: i32,
    /// How many times the job was claimed; with the job id it names each claim uniquely.
    claims: i32,
    not_before: bson::DateTime,
    lease_until: bson::DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    created_at: bson::DateTime,
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

/// The unique key a claim is recorded under.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimDoc {
    #[serde(rename = "_id")]
    id: String,
    job_id: ObjectId,
    claimed_at: bson::DateTime,
}

pub struct MongoMediaJobRepository {
    jobs: Collection<JobDoc>,
    claims: Collection<ClaimDoc>,
}

impl MongoMediaJobRepository {
    pub fn new(db: &Database) -> Self {
        Self {
            jobs: db.collection(MEDIA_JOBS),
            claims: db.collection(MEDIA_JOB_CLAIMS),
        }
    }
}

/// Candidates looked at per claim; losing all of them to other workers just means trying later.
const CANDIDATES: i64 = 8;

#[async_trait]
impl MediaJobRepository for MongoMediaJobRepository {
    fn next_id(&self) -> Id {
        id(ObjectId::new())
    }

    async fn insert(&self, job: &MediaJob) -> Result<(), RepoError> {
        let created_at = to_bson_time(job.created_at);
        let doc = JobDoc {
            id: oid(job.id),
            video_id: oid(job.video_id),
            video: spooled_doc(&job.video),
            thumbnail: spooled_doc(&job.thumbnail),
            attempts: job.attempts as i32,
            claims: 0,
            not_before: created_at,
            lease_until: created_at,
            last_error: None,
            created_at,
        };
        self.jobs
            .insert_one(doc)
            .await
            .map(drop)
            .map_err(repo_error)
    }

    /// A findOneAndUpdate would pick the job in one step on MongoDB, but FerretDB reads and then
    /// writes, so two workers could both take it. Instead each claim inserts a document keyed by
    /// `<job id>:<claim number>`: the unique `_id` lets exactly one worker win each claim.
    async fn claim_next(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<MediaJob>, RepoError> {
        let now_bson = to_bson_time(now);
        let due: Vec<JobDoc> = self
            .jobs
            .find(doc! { "notBefore": { "$lte": now_bson }, "leaseUntil": { "$lte": now_bson } })
            .sort(doc! { "notBefore": 1 })
            .limit(CANDIDATES)
            .await
            .map_err(repo_error)?
            .try_collect()
            .await
            .map_err(repo_error)?;
        for job in due {
            let claim = ClaimDoc {
                id: format!("{}:{}", job.id.to_hex(), job.claims),
                job_id: job.id,
                claimed_at: now_bson,
            };
            if !insert_unique(&self.claims, claim).await? {
                continue;
            }
            let lease_until =
                now + chrono::TimeDelta::from_std(lease).unwrap_or(chrono::TimeDelta::MAX);
            self.jobs
                .update_one(
                    doc! { "_id": job.id },
                    doc! { "$set": { "leaseUntil": to_bson_time(lease_until) }, "$inc": { "claims": 1 } },
                )
                .await
                .map_err(repo_error)?;
            return Ok(Some(MediaJob {
                id: id(job.id),
                video_id: id(job.video_id),
                video: uploaded_file(job.video)?,
                thumbnail: uploaded_file(job.thumbnail)?,
                attempts: job.attempts.max(0) as u32,
                created_at: job.created_at.to_chrono(),
            }));
        }
        Ok(None)
    }

    async fn retry_later(
        &self,
        job_id: Id,
        attempts: u32,
        error: &str,
        not_before: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let at = to_bson_time(not_before);
        self.jobs
            .update_one(
                doc! { "_id": oid(job_id) },
                doc! { "$set": {
                    "attempts": attempts as i32,
                    "lastError": error,
                    "notBefore": at,
                    "leaseUntil": at,
                } },
            )
            .await
            .map(drop)
            .map_err(repo_error)
    }

    async fn remove(&self, job_id: Id) -> Result<(), RepoError> {
        self.jobs
            .delete_one(doc! { "_id": oid(job_id) })
            .await
            .map_err(repo_error)?;
        self.claims
            .delete_many(doc! { "jobId": oid(job_id) })
            .await
            .map(drop)
            .map_err(repo_error)
    }
}
