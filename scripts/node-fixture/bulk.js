// Builds a large database as the Node backend leaves it, for `videotube migrate`'s resumability
// test and benchmark: the models of models.js, every document written through Mongoose
// (`insertMany`, so casting, `__v` and timestamps are Mongoose's), the same documents for the same
// arguments (ids and `createdAt` come from a counter and a seeded generator; `updatedAt` is the
// time of the build).
//
//   MONGODB_URI=... DB_NAME=... node bulk.js [--users N] [--likes N] [--objects] [--drop]
//
// `--drop` drops the database first (a benchmark's, built again each time).
//
// Besides N users and N likes: a video per 5 users, as many comments and tweets, 2 subscriptions
// and a playlist of 8 videos per 10 users, 0-6 watched videos per user. What the original let in is
// there too: one email in 7 mixed-case, some colliding with another account once lowercased, one
// user in 3 with an old `refreshToken`, 1% duplicate likes and subscriptions, likes of nothing.
// Prints what it wrote as JSON on stdout.
const { connect, media } = require("./models");

const arg = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const USERS = arg("--users", 600);
const LIKES = arg("--likes", 3000);
const objects = process.argv.includes("--objects");
const CHUNK = 5000;

// Deterministic: a linear congruential generator and ids from a counter per collection.
let seed = 12345;
const random = (n) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const id = (kind, n) => `65${kind}${n.toString(16).padStart(20, "0")}`;
const BASE = Date.UTC(2024, 0, 1);
const createdAt = (n) => new Date(BASE + n * 60_000);
// A bcrypt hash (cost 10) of "correct horse battery": hashing 100,000 passwords would take hours.
const PASSWORD_HASH = "$2a$10$QoxaBzrRQ0brURZJJrE4x.z7cZF9NAc79gHkcbp3qwOSypr3BIk/y";

async function insert(Model, count, make) {
  for (let start = 0; start < count; start += CHUNK) {
    const docs = [];
    for (let n = start; n < Math.min(count, start + CHUNK); n++) {
      docs.push(make(n));
    }
    await Model.insertMany(docs, { ordered: true });
    process.stderr.write(`[bulk] ${Model.modelName}: ${Math.min(count, start + CHUNK)} of ${count}\n`);
  }
}

async function main() {
  const { mongoose, dbName, User, Video, Like, Comment, Playlist, Subscription, Tweet } =
    await connect(objects, { drop: process.argv.includes("--drop") });
  const VIDEOS = Math.max(1, Math.floor(USERS / 5));
  const COLLIDING = Math.floor(USERS / 200);
  const users = USERS + COLLIDING;
  const user = () => id("aa", random(users));
  const video = () => id("bb", random(VIDEOS));

  await insert(User, users, (n) => {
    // The last ones take, in lowercase, an email an earlier user has in mixed case.
    const email = n >= USERS ? `user${7 * (n - USERS)}@example.com`
      : n % 7 === 0 ? `User${n}@Example.com` : `user${n}@example.com`;
    const watched = [];
    for (let k = random(7); k > 0; k--) watched.push(video());
    return {
      _id: id("aa", n), username: n >= USERS ? `collide${n}` : `user${n}`, email,
      fullName: `User ${n}`, avatar: media(objects, "image", `avatar_${n}`, "png"),
      password: PASSWORD_HASH, watchHistory: watched,
      ...(n % 3 === 0 ? { refreshToken: `old.jwt.${n}` } : {}),
      createdAt: createdAt(n),
    };
  });
  await insert(Video, VIDEOS, (n) => ({
    _id: id("bb", n), videoFile: media(objects, "video", `clip_${n}`, "mp4"),
    thumbnail: media(objects, "image", `thumb_${n}`, "png"), title: `Video ${n}`,
    description: `About video ${n}`, duration: 10 + (n % 600), views: n % 50, owner: user(),
    createdAt: createdAt(n),
  }));
  await insert(Comment, VIDEOS, (n) => ({
    _id: id("cc", n), content: `Comment ${n}`, video: video(), owner: user(), createdAt: createdAt(n),
  }));
  await insert(Tweet, VIDEOS, (n) => ({
    _id: id("dd", n), content: `Tweet ${n}`, owner: user(), createdAt: createdAt(n),
  }));
  // Every hundredth like repeats the one before (the original had no unique index); every
  // thousandth likes nothing.
  let previous = null;
  await insert(Like, LIKES, (n) => {
    let like;
    if (n % 100 === 99 && previous) {
      like = { ...previous };
    } else if (n % 1000 === 500) {
      like = { likedBy: user() };
    } else {
      const kind = random(10);
      const target = kind < 8 ? { video: video() }
        : kind < 9 ? { comment: id("cc", random(VIDEOS)) } : { tweet: id("dd", random(VIDEOS)) };
      like = { ...target, likedBy: user() };
    }
    previous = like;
    return { _id: id("ee", n), ...like, createdAt: createdAt(n) };
  });
  const SUBSCRIPTIONS = 2 * USERS;
  let lastSubscription = null;
  await insert(Subscription, SUBSCRIPTIONS, (n) => {
    const subscription = n % 100 === 99 && lastSubscription
      ? lastSubscription : { subscriber: user(), channel: user() };
    lastSubscription = subscription;
    return { _id: id("ff", n), ...subscription, createdAt: createdAt(n) };
  });
  const PLAYLISTS = Math.max(1, Math.floor(USERS / 10));
  await insert(Playlist, PLAYLISTS, (n) => {
    const videos = [];
    for (let k = 0; k < 8; k++) videos.push(video());
    return {
      _id: id("ab", n), name: `Playlist ${n}`, description: "Generated", owner: user(), videos,
      createdAt: createdAt(n),
    };
  });

  console.log(JSON.stringify({
    db: dbName, users, videos: VIDEOS, likes: LIKES, subscriptions: SUBSCRIPTIONS,
    playlists: PLAYLISTS, colliding: COLLIDING,
  }));
  await mongoose.disconnect();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
