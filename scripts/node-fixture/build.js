// Builds a database exactly as the Node/Express videotube backend leaves it: the original's
// Mongoose models (hiteshchoudhary/chai-backend, src/models/, as ../../../shared/design.md lists
// them), so the documents, their `__v`, timestamps and Mongoose's own indexes are Mongoose's.
//
//   MONGODB_URI=mongodb://127.0.0.1:27017 DB_NAME=node_videotube node build.js [--objects] [--duplicates]
//
// `--objects` stores media as `{url, public_id}` objects, as a well-known complete fork
// (Hruthik-28/youtube-twitter) does. `--duplicates` adds what the original let in for want of
// unique indexes: a second like of the same video by the same user, a second subscription, and a
// like of nothing. Prints what it wrote as JSON on stdout.
const mongoose = require("mongoose");
const bcrypt = require("bcryptjs");
const { Schema } = mongoose;

const objects = process.argv.includes("--objects");
const duplicates = process.argv.includes("--duplicates");
const PASSWORD = process.env.FIXTURE_PASSWORD || "correct horse battery";
const cloud = "http://res.cloudinary.com/demo";
const media = (kind, id, ext) => {
  const url = `${cloud}/${kind}/upload/v1700000000/${id}.${ext}`;
  return objects ? { url, public_id: id } : url;
};
const Media = objects ? { url: String, public_id: String } : String;

const userSchema = new Schema(
  {
    username: { type: String, required: true, unique: true, lowercase: true, trim: true, index: true },
    // The original's typo: `lowecase`, so emails keep their case.
    email: { type: String, required: true, unique: true, lowecase: true, trim: true },
    fullName: { type: String, required: true, trim: true, index: true },
    avatar: { type: Media, required: true },
    coverImage: { type: Media },
    watchHistory: [{ type: Schema.Types.ObjectId, ref: "Video" }],
    password: { type: String, required: [true, "Password is required"] },
    refreshToken: { type: String },
  },
  { timestamps: true, strict: false }
);
const videoSchema = new Schema(
  {
    videoFile: { type: Media, required: true },
    thumbnail: { type: Media, required: true },
    title: { type: String, required: true },
    description: { type: String, required: true },
    duration: { type: Number, required: true },
    views: { type: Number, default: 0 },
    isPublished: { type: Boolean, default: true },
    owner: { type: Schema.Types.ObjectId, ref: "User" },
  },
  { timestamps: true }
);
const likeSchema = new Schema(
  {
    video: { type: Schema.Types.ObjectId, ref: "Video" },
    comment: { type: Schema.Types.ObjectId, ref: "Comment" },
    tweet: { type: Schema.Types.ObjectId, ref: "Tweet" },
    likedBy: { type: Schema.Types.ObjectId, ref: "User" },
  },
  { timestamps: true }
);
const commentSchema = new Schema(
  {
    content: { type: String, required: true },
    video: { type: Schema.Types.ObjectId, ref: "Video" },
    owner: { type: Schema.Types.ObjectId, ref: "User" },
  },
  { timestamps: true }
);
const playlistSchema = new Schema(
  {
    name: { type: String, required: true },
    description: { type: String, required: true },
    videos: [{ type: Schema.Types.ObjectId, ref: "Video" }],
    owner: { type: Schema.Types.ObjectId, ref: "User" },
  },
  { timestamps: true }
);
const subscriptionSchema = new Schema(
  {
    subscriber: { type: Schema.Types.ObjectId, ref: "User" },
    channel: { type: Schema.Types.ObjectId, ref: "User" },
  },
  { timestamps: true }
);
const tweetSchema = new Schema(
  {
    content: { type: String, required: true },
    owner: { type: Schema.Types.ObjectId, ref: "User" },
  },
  { timestamps: true }
);

async function main() {
  const uri = process.env.MONGODB_URI || "mongodb://127.0.0.1:27017";
  const dbName = process.env.DB_NAME || "node_videotube";
  await mongoose.connect(uri, { dbName });
  const User = mongoose.model("User", userSchema);
  const Video = mongoose.model("Video", videoSchema);
  const Like = mongoose.model("Like", likeSchema);
  const Comment = mongoose.model("Comment", commentSchema);
  const Playlist = mongoose.model("Playlist", playlistSchema);
  const Subscription = mongoose.model("Subscription", subscriptionSchema);
  const Tweet = mongoose.model("Tweet", tweetSchema);
  await Promise.all(mongoose.modelNames().map((name) => mongoose.model(name).init()));

  // The original hashes with bcrypt, cost 10, in a pre-save hook.
  const password = await bcrypt.hash(PASSWORD, 10);
  const ada = await User.create({
    username: "legacy-user", email: "Ada@Example.com", fullName: "Ada Legacy",
    avatar: media("image", "ada_avatar", "png"), coverImage: media("image", "ada_cover", "jpg"),
    password, refreshToken: "an.old.jwt",
  });
  const bob = await User.create({
    username: "bob", email: "bob@example.com", fullName: "Bob Viewer",
    avatar: media("image", "bob_avatar", "png"), password,
  });
  const videos = [];
  for (const [i, title] of ["First light", "Second wind", "Third time"].entries()) {
    videos.push(await Video.create({
      videoFile: media("video", `clip_${i}`, "mp4"), thumbnail: media("image", `thumb_${i}`, "png"),
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
