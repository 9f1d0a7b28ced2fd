//! What the Node backend left in the database, read before any migration: its users log in (by
//! a name our registration would refuse, by an email stored in mixed case), object-shaped media
//! and numbers stored as doubles read without a 500.

use reqwest::StatusCode;
use serde_json::json;
use videotube_domain::ports::PasswordHasher;
use videotube_domain::values::NewPassword;
use videotube_infra::mongo::bson::{self, doc, oid::ObjectId, Document};
use videotube_infra::BcryptHasher;

use crate::helpers::{body_of, spawn_app, PASSWORD};

#[tokio::test]
async fn the_node_backends_users_and_videos_read_and_log_in_as_they_are() {
    let app = spawn_app().await;
    let hash = BcryptHasher::new(4, 0)
        .unwrap()
        .hash(&NewPassword::parse(PASSWORD.into(), "password").unwrap())
        .await
        .unwrap();
    let now = bson::DateTime::now();
    let (user, video) = (ObjectId::new(), ObjectId::new());
    // As the original (and the fork that stores media as objects) wrote them: no asset ids, an
    // email as typed, a username with a dash, `refreshToken` and `watchHistory` fields.
    app.db
        .collection::<Document>("users")
        .insert_one(doc! {
            "_id": user, "username": "legacy-user", "email": "Ada@Example.com",
            "fullName": "Ada Legacy",
            "avatar": { "url": "http://res.cloudinary.com/demo/image/upload/v1/av.png", "public_id": "av" },
            "coverImage": "", "watchHistory": [video], "password": hash.expose(),
            "refreshToken": "an old jwt", "createdAt": now, "updatedAt": now, "__v": 0,
        })
        .await
        .unwrap();
    app.db
        .collection::<Document>("videos")
        .insert_one(doc! {
            "_id": video, "owner": user, "title": "Old times", "description": "From Node",
            "videoFile": { "url": "http://res.cloudinary.com/demo/video/upload/v1/clip.mp4", "public_id": "clip" },
            "thumbnail": "http://res.cloudinary.com/demo/image/upload/v1/thumb.png",
            "duration": 12, "views": 7.0, "createdAt": now, "updatedAt": now, "__v": 0,
        })
        .await
        .unwrap();

    for login in [
        json!({ "username": "legacy-user", "password": PASSWORD }),
        json!({ "username": "Legacy-User", "password": PASSWORD }),
        json!({ "email": "Ada@Example.com", "password": PASSWORD }),
    ] {
        let res = app.login_raw(login.clone()).await;
        assert_eq!(res.status(), StatusCode::OK, "{login}");
        let body = body_of(res).await;
        assert_eq!(
            body["data"]["user"]["avatar"],
            "http://res.cloudinary.com/demo/image/upload/v1/av.png"
        );
    }
    let res = app
        .login_raw(json!({ "username": "legacy-user", "password": "wrong password" }))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let access = body_of(
        app.login_raw(json!({ "username": "legacy-user", "password": PASSWORD }))
            .await,
    )
    .await["data"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let channel = app.get_authed("/users/c/legacy-user", &access).await;
    assert_eq!(channel.status(), StatusCode::OK);
    assert_eq!(body_of(channel).await["data"]["fullName"], "Ada Legacy");

    let res = app.get_authed(&format!("/videos/{video}"), &access).await;
    assert_eq!(res.status(), StatusCode::OK);
    let watched = body_of(res).await["data"].clone();
    assert_eq!(watched["views"], 8, "7.0 read as 7, and this watch counted");
    assert_eq!(watched["duration"], 12.0);
    assert_eq!(watched["status"], "ready");
    assert_eq!(watched["isPublished"], true);
    assert_eq!(
        watched["videoFile"],
        "http://res.cloudinary.com/demo/video/upload/v1/clip.mp4"
    );
}
