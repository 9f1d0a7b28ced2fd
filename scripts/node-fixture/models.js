// The Node/Express videotube backend's Mongoose models (hiteshchoudhary/chai-backend,
// src/models/, as ../../../shared/design.md lists them), shared by build.js and bulk.js.
const mongoose = require("mongoose");
const { Schema } = mongoose;

const cloud = "http://res.cloudinary.com/demo";
// A media field as the original stores it (the Cloudinary URL) or, with `objects`, as the fork does.
const media = (objects, kind, id, ext) => {
  const url = `${cloud}/${kind}/upload/v1700000000/${id}.${ext}`;
  return objects ? { url, public_id: id } : url;
};

function schemas(objects) {
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
  return {
    User: userSchema, Video: videoSchema, Like: likeSchema, Comment: commentSchema,
    Playlist: playlistSchema, Subscription: subscriptionSchema, Tweet: tweetSchema,
  };
}

// Connects to MONGODB_URI / DB_NAME (dropped first with `drop`) and answers the models, their
// indexes made by Mongoose.
async function connect(objects, { drop = false } = {}) {
  const uri = process.env.MONGODB_URI || "mongodb://127.0.0.1:27017";
  const dbName = process.env.DB_NAME || "node_videotube";
  await mongoose.connect(uri, { dbName });
  if (drop) {
    await mongoose.connection.dropDatabase();
  }
  const models = {};
  for (const [name, schema] of Object.entries(schemas(objects))) {
    models[name] = mongoose.model(name, schema);
  }
  await Promise.all(Object.values(models).map((model) => model.init()));
  return { mongoose, dbName, ...models };
}

module.exports = { connect, media };
