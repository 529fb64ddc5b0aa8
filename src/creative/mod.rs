//! Creatives: the images and videos an ad is made of, taken from the user's files to the ad
//! account's library — found and checked ([`media`]), uploaded once per account whatever
//! happens ([`record`], [`upload`]), and waited for until TikTok can use them ([`wait`]).

pub mod library;
pub mod media;
pub mod name;
pub mod record;
pub mod upload;
pub mod wait;
