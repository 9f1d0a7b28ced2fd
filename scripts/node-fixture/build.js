// Builds a database exactly as the Node/Express videotube backend leaves it: the original's
// Mongoose models (models.js), so the documents, their `__v`, timestamps and Mongoose's own
// indexes are Mongoose's.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017 DB_NAME=node_videotube node build.js [--objects] [--duplicates]
//
// `--objects` stores media as `{url, public_id}` objects, as a well-known complete fork
// (Hruthik-28/youtube-twitter) does. `--duplicates` adds what the original let in for want of
// unique indexes: a second like of the same video by the same user, a second subscription, and a
// like of nothing. Prints what it wrote as JSON on stdout.
const bcrypt = require("bcryptjs");
const { connect, media } = require("./models");

const objects = process.argv.includes("--objects");
const duplicates = process.argv.includes("--duplicates");
const PASSWORD = process.env.FIXTURE_PASSWORD || "correct horse battery";

async function main() {
  const { mongoose, dbName, User, Video, Like, Comment, Playlist, Subscription, Tweet } =
    await connect(objects);

  // The original hashes with bcrypt, cost 10, in a pre-save hook.
  const password = await bcrypt.hash(PASSWORD, 10);
  const ada = await User.create({
    username: "legacy-user", email: "Ada@Example.com", fullName: "Ada Legacy",
    avatar: media(objects, "image", "ada_avatar", "png"), coverImage: media(objects, "image", "ada_cover", "jpg"),
    password, refreshToken: "an.old.jwt",
  });
  const bob = await User.create({
    username: "bob", email: "bob@example.com", fullName: "Bob Viewer",
    avatar: media(objects, "image", "bob_avatar", "png"), password,
  });
  const videos = [];
  for (const [i, title] of ["First light", "Second wind", "Third time"].entries()) {
    videos.push(await Video.create({
      videoFile: media(objects, "video", `clip_${i}`, "mp4"), thumbnail: media(objects, "image", `thumb_${i}`, "png"),
      title, description: `About ${title}`, duration: 12.5 + i, views: 3 + i, owner: ada._id,
    }));
  }
  const comment = await Comment.create({ content: "Lovely", video: videos[0]._id, owner: bob._id });
  const tweet = await Tweet.create({ content: "Hello from Node", owner: ada._id });
  await Like.create({ video: videos[0]._id, likedBy: bob._id });
  await Like.create({ comment: comment._id, likedBy: ada._id });
  await Like.create({ tweet: tweet._id, likedBy: bob._id });
  await Subscription.create({ subscriber: bob._id, channel: ada._id });
  const playlist = await Playlist.create({
    name: "Favourites", description: "In order", owner: bob._id,
    videos: [videos[2]._id, videos[0]._id],
  });
  if (duplicates) {
    await Like.create({ video: videos[0]._id, likedBy: bob._id });
    await Subscription.create({ subscriber: bob._id, channel: ada._id });
    await Like.create({ likedBy: ada._id });
  }
  // The original pushes to `watchHistory` on watch; the newest is last.
  await User.updateOne({ _id: bob._id }, { $push: { watchHistory: { $each: [videos[1]._id, videos[0]._id] } } });

  console.log(JSON.stringify({
    db: dbName, objects, duplicates, password: PASSWORD,
    users: { ada: String(ada._id), bob: String(bob._id) },
    videos: videos.map((v) => String(v._id)),
    comment: String(comment._id), tweet: String(tweet._id), playlist: String(playlist._id),
  }));
  await mongoose.disconnect();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
