use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;

use super::{liked_item, visible_video, LikeStates};
use crate::comment::{Comment, CommentContent};
use crate::error::Error;
use crate::like::LikeTarget;
use crate::ownership::owned_by;
use crate::page::{Cursor, Page, PageRequest};
use crate::ports::{CommentRepository, LikeRepository, UserRepository, VideoRepository};
use crate::user::UserSummary;
use crate::Id;

/// A comment as lists show it, and as writes answer it.
#[derive(Debug, Clone)]
pub struct CommentView {
    pub comment: Comment,
    /// `None` only if the owner's account is gone.
    pub owner: Option<UserSummary>,
    pub likes: u64,
    pub is_liked: bool,
}

pub struct CommentService {
    comments: Arc<dyn CommentRepository>,
    videos: Arc<dyn VideoRepository>,
    likes: Arc<dyn LikeRepository>,
    users: Arc<dyn UserRepository>,
}

impl CommentService {
    pub fn new(
        comments: Arc<dyn CommentRepository>,
        videos: Arc<dyn VideoRepository>,
        likes: Arc<dyn LikeRepository>,
        users: Arc<dyn UserRepository>,
    ) -> Self {
        Self {
            comments,
            videos,
            likes,
            users,
        }
    }

    /// A video's comments, newest first, each with its owner, like count and whether the viewer
    /// likes it. A video the viewer cannot see has no visible comments: 404.
    #[tracing::instrument(name = "CommentService::list", skip_all)]
    pub async fn list(
        &self,
        viewer: Option<Id>,
        video: Id,
        page: PageRequest,
        after: Option<&Cursor>,
    ) -> Result<Page<CommentView>, Error> {
        self.visible_video(viewer, video).await?;
        let found = self.comments.by_video(video, page, after).await?;
        let targets: Vec<LikeTarget> = found
            .items
            .iter()
            .map(|c| LikeTarget::Comment(c.id))
            .collect();
        let likes = LikeStates::load(self.likes.as_ref(), viewer, &targets).await?;
        let mut owner_ids: Vec<Id> = found.items.iter().map(|c| c.owner).collect();
        owner_ids.sort();
        owner_ids.dedup();
        let owners: HashMap<Id, UserSummary> = if owner_ids.is_empty() {
            HashMap::new()
        } else {
            let summaries = self.users.summaries(&owner_ids).await?;
            summaries.into_iter().map(|s| (s.id, s)).collect()
        };
        Ok(found.map(|comment| {
            let (likes, is_liked) = likes.of(LikeTarget::Comment(comment.id));
            CommentView {
                owner: owners.get(&comment.owner).cloned(),
                likes,
                is_liked,
                comment,
            }
        }))
    }

    /// Adds the caller's comment, answered as lists show it (no likes yet).
    #[tracing::instrument(name = "CommentService::add", skip_all)]
    pub async fn add(
        &self,
        caller: Id,
        video: Id,
        content: CommentContent,
    ) -> Result<CommentView, Error> {
        self.visible_video(Some(caller), video).await?;
        let (comment, mut owner) = futures_util::future::try_join(
            self.comments.insert(video, caller, &content, Utc::now()),
            self.users.summaries(&[caller]),
        )
        .await?;
        Ok(CommentView {
            comment,
            owner: owner.pop(),
            likes: 0,
            is_liked: false,
        })
    }

    #[tracing::instrument(name = "CommentService::update", skip_all)]
    pub async fn update(
        &self,
        caller: Id,
        id: Id,
        content: CommentContent,
    ) -> Result<CommentView, Error> {
        let comment = self.owned(caller, id).await?;
        // A comment is edited where it can be read: not on a video hidden since (unpublished,
        // or no longer ready). Its author may still delete it.
        if !self.can_see(Some(caller), comment.video).await? {
            return Err(Error::NotFound("Comment not found"));
        }
        let comment = self
            .comments
            .update_content(id, &content)
            .await?
            .ok_or(Error::NotFound("Comment not found"))?;
        let (owner, likes, is_liked) = liked_item(
            self.users.as_ref(),
            self.likes.as_ref(),
            caller,
            LikeTarget::Comment(id),
        )
        .await?;
        Ok(CommentView {
            comment,
            owner,
            likes,
            is_liked,
        })
    }

    /// Deletes the comment, then its likes (invisible once the comment is gone).
    #[tracing::instrument(name = "CommentService::delete", skip_all)]
    pub async fn delete(&self, caller: Id, id: Id) -> Result<(), Error> {
        self.owned(caller, id).await?;
        if !self.comments.delete(id).await? {
            return Err(Error::NotFound("Comment not found"));
        }
        Ok(self
            .likes
            .remove_targets(&[LikeTarget::Comment(id)])
            .await?)
    }

    async fn visible_video(&self, viewer: Option<Id>, video: Id) -> Result<(), Error> {
        if self.can_see(viewer, video).await? {
            Ok(())
        } else {
            Err(Error::NotFound("Video not found"))
        }
    }

    async fn can_see(&self, viewer: Option<Id>, video: Id) -> Result<bool, Error> {
        Ok(visible_video(self.videos.as_ref(), viewer, video)
            .await?
            .is_some())
    }

    async fn owned(&self, caller: Id, id: Id) -> Result<Comment, Error> {
        owned_by(self.comments.find_by_id(id).await?, caller)
    }
}
